"""``bench charter``: latency of the live charter check on a 280-character draft against a 500-term charter."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime
from typing import Any

from core.models import Platform
from editorial.charter import Charter, Election, ReserveSettings, Term
from editorial.charter_yaml import default_charter
from editorial.engine import CheckContext, CompiledCharter, clear_caches
from editorial.lengths import x_count

_SYLLABLES = ("ba", "cor", "dé", "fi", "gna", "lo", "mé", "ni", "pra", "ré", "sé", "tou", "va", "zé", "qui", "ché")


def _word(i: int) -> str:
    out, n = [], i
    for _ in range(3):
        out.append(_SYLLABLES[n % len(_SYLLABLES)])
        n //= len(_SYLLABLES)
    return "".join(out) + "x"


def big_charter(terms: int = 500) -> Charter:
    """The default charter grown to ``terms`` listed terms (banned, discouraged, reserve; some multi-word,
    some prefixes) with an election in progress so the période de réserve rules run too."""
    base = default_charter()
    banned = list(base.banned) + [Term(term=_word(i) + (" " + _word(i + 7) if i % 5 == 0 else ""),
                                       replacement=_word(i + 3)) for i in range(200)]
    discouraged = list(base.discouraged) + [Term(term=_word(1000 + i) + ("*" if i % 9 == 0 else ""),
                                                 replacement=_word(2000 + i)) for i in range(200)]
    used = len(banned) + len(discouraged) + len(base.reserve.bilan_terms)
    extra = max(0, terms - used)
    reserve = ReserveSettings(
        elections=(Election(name="Municipales", rounds=(date(2026, 3, 15), date(2026, 3, 22))),),
        bilan_terms=base.reserve.bilan_terms,
        candidates=tuple(f"Candidat {_word(3000 + i)}" for i in range(extra // 2)),
        campaign_themes=tuple(_word(4000 + i) for i in range(extra - extra // 2)))
    return Charter(name="Bench", version=1, limits=base.limits, banned=tuple(banned), discouraged=tuple(discouraged),
                   allowed_domains=base.allowed_domains, allowed_contacts=base.allowed_contacts,
                   hashtags=base.hashtags, acronyms=base.acronyms, reserve=reserve)


DRAFT = ("Bonjour Camille, merci pour votre signalement rue de la République. Malheureusement le problème de "
         "dépôts sauvages persiste : nos équipes propreté passeront mardi soir. Plus d'infos : "
         "https://www.valmont.fr/proprete ou au 01 23 45 67 89. Bonne journée ! #ProprétéValmont 🧹")


def run(runs: int = 2000) -> dict[str, object]:
    """Compile once, then time ``runs`` checks; p50/p95/p99 in milliseconds."""
    charter = big_charter()
    t0 = time.perf_counter()
    cc = CompiledCharter(charter)
    compile_ms = (time.perf_counter() - t0) * 1000
    text = DRAFT + "\n— Julie"
    ctx_args: dict[str, Any] = {"platform": Platform.X, "now": datetime(2026, 1, 10, 9, tzinfo=UTC),
                                "signature": "— Julie", "other_signatures": ("— Karim", "^KB", "— L'équipe Voirie")}
    cc.check(text, CheckContext(**ctx_args))  # warm-up (regex caches)
    samples, cpu = [], []
    for _ in range(runs):
        clear_caches()  # every check starts cold, like a new keystroke
        start, start_cpu = time.perf_counter(), time.thread_time()
        cc.check(text, CheckContext(**ctx_args))
        cpu.append((time.thread_time() - start_cpu) * 1000)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    q = statistics.quantiles(samples, n=100)
    q_cpu = statistics.quantiles(cpu, n=100)  # CPU time: unaffected by other processes on a busy machine
    result = cc.check(text, CheckContext(**ctx_args))
    terms = (len(charter.banned) + len(charter.discouraged) + len(charter.reserve.bilan_terms)
             + len(charter.reserve.candidates) + len(charter.reserve.campaign_themes))
    return {"bench": "charter", "runs": runs, "terms": terms, "draft_chars": len(text),
            "x_weighted_length": x_count(text).length, "findings": len(result.findings),
            "compile_ms": round(compile_ms, 2), "p50_ms": round(q[49], 3), "p95_ms": round(q[94], 3),
            "p99_ms": round(q[98], 3), "max_ms": round(samples[-1], 3), "p50_cpu_ms": round(q_cpu[49], 3),
            "p95_cpu_ms": round(q_cpu[94], 3), "target_p95_ms": 5.0}
