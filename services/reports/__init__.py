"""Dashboard, weekly/monthly reports (charts, PDF), topics and frequent questions."""
