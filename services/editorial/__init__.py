"""The editorial line and the calendar: charter, posts (write, review, recur), calendar read models."""
