"""Each charter rule: stable code, severity, French explanation, span in the draft, suggested fix."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from core.models import Platform
from editorial.charter import Media, Severity, Term
from editorial.charter_yaml import default_charter
from editorial.engine import CheckContext, CompiledCharter

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SIG = "— Julie"


def check(text, *, charter=None, platform=Platform.X, signature=SIG, others=("— Karim", "^KB"), media=(), now=NOW):
    cc = CompiledCharter(charter or default_charter())
    ctx = CheckContext(platform=platform, now=now, signature=signature, other_signatures=others, media=media)
    return cc.check(text, ctx)


def only(result, code):
    found = [f for f in result.findings if f.code == code]
    assert found, f"no {code} in {result.codes}"
    return found


def test_clean_reply_passes():
    result = check("Bonjour, les équipes passent demain rue Victor-Hugo. Bonne journée ! #Valmont\n— Julie")
    assert result.findings == () and not result.blocked and result.charter_version == 0


def test_length_counts_the_signature_and_points_at_the_overflow():
    body = "a" * 275
    result = check(f"{body}\n{SIG}")
    (f,) = only(result, "length")
    assert f.severity is Severity.BLOCK and result.blocked
    assert (f.start, f.end) == (280, 283)
    assert "283 caractères sur 280" in f.message and "Raccourcissez de 3 caractères" in f.message


def test_length_uses_the_platform_limit_from_the_charter():
    charter = replace(default_charter(), limits={"facebook": 50})
    text = "é" * 45 + "\n" + SIG
    assert only(check(text, charter=charter, platform=Platform.FACEBOOK), "length")[0].message.startswith(
        "Trop long pour Facebook")
    assert "length" not in check(text).codes  # 54 on X: fine


def test_banned_term_is_found_whatever_accents_and_case():
    text = "C'est du N’IMPORTE QUOI, merci\n— Julie"
    (f,) = only(check(text), "banned_term")
    assert text[f.start:f.end] == "N’IMPORTE QUOI"
    assert f.severity is Severity.BLOCK and f.suggestion == "une information inexacte"
    assert f.message == ("« N’IMPORTE QUOI » est interdit par la charte (ton polémique). "
                         "Proposition : « une information inexacte ».")


def test_discouraged_term_warns_with_replacement_and_prefix_terms_match():
    result = check("Malheureusement, c'est un PROBLÈME de mensonges.\n— Julie")
    warns = only(result, "discouraged_term")
    # « un PROBLÈME » → « une difficulté »: the determiner agrees with the replacement (issue #17)
    assert [(w.suggestion, w.severity) for w in warns] == [("pour l'instant", Severity.WARN),
                                                           ("une difficulté", Severity.WARN)]
    (banned,) = only(result, "banned_term")  # "mensonge*" prefix term
    assert banned.suggestion == "information inexacte"


def test_multiword_terms_match_across_punctuation_but_not_inside_words():
    charter = replace(default_charter(), banned=(Term(term="porte-à-porte"),), discouraged=())
    assert only(check("Du porte à porte ce soir\n— Julie", charter=charter), "banned_term")
    assert "banned_term" not in check("Apporte à porter\n— Julie", charter=charter).codes


def test_excessive_capitals_and_punctuation():
    result = check("MERCI DE PATIENTER ENCORE !!! Le CCAS répond ?!?\n— Julie")
    (caps,) = only(result, "excessive_caps")
    assert caps.suggestion == "Merci de patienter encore" and caps.severity is Severity.WARN
    punct = only(result, "excessive_punctuation")
    assert [p.suggestion for p in punct] == ["!", "?"]
    assert "excessive_caps" not in check("Le CCAS et la CAF vous répondent.\n— Julie").codes


def test_links_only_to_allowed_domains():
    text = "Infos : https://www.valmont.fr/x et bit.ly/abc et service-public.fr\n— Julie"
    (f,) = only(check(text), "link_not_allowed")
    assert text[f.start:f.end] == "bit.ly/abc" and f.severity is Severity.BLOCK
    assert "bit.ly" in f.message and "valmont.fr" in f.message


def test_decorative_unicode_letters_are_blocked_with_plain_text_fix():
    text = "Grande 𝐟𝐞̂𝐭𝐞 et 𝒮𝒸𝓇𝒾𝓅𝓉 en ＦＵＬＬ\n— Julie"
    found = only(check(text), "decorative_unicode")
    assert [f.suggestion for f in found][0].startswith("fe")
    assert {f.suggestion for f in found[1:]} == {"Script", "FULL"}
    assert all(f.severity is Severity.BLOCK for f in found)


def test_hashtags_camelcase_known_and_heuristic():
    result = check("Ce soir au conseil. #conseilmunicipal #VALMONT #reunionpubliquedumardi\n— Julie")
    found = only(result, "hashtag_camelcase")
    assert [f.suggestion for f in found] == ["#ConseilMunicipal", "#Valmont", None]
    assert "#Propreté" not in [f.suggestion for f in found]


def test_hashtags_and_emoji_belong_at_the_end():
    result = check("Le #ConseilMunicipal 🎉 se réunit ce soir. #Valmont 🎉\n— Julie")
    found = only(result, "hashtag_emoji_position")
    assert [(f.start, f.end) for f in found] == [(3, 20), (21, 22)]
    assert "hashtag_emoji_position" not in check("Le conseil se réunit ce soir. #Valmont 🎉\n— Julie").codes


def test_too_many_emoji():
    (f,) = only(check("Bravo 🎉🎉🎉🎉🎉\n— Julie"), "too_many_emoji")
    assert "5 emoji" in f.message


def test_images_need_alt_text():
    result = check("Voici le plan.\n— Julie", media=(Media(name="plan.png", alt=""), Media(name="b.jpg", alt="b.jpg"),
                                                    Media(name="c.jpg", alt="Plan du quartier Nord")))
    found = only(result, "image_alt_missing")
    assert len(found) == 2 and "plan.png" in found[0].message and result.blocked


def test_platform_media_rules_tell_the_author_before_approval():
    photo = Media(name="marche.jpg", alt="Les chalets du marché", size=300_000, mime="image/jpeg")
    post = CompiledCharter(default_charter())

    def codes(platform, media, *, is_post=True):
        ctx = CheckContext(platform=platform, now=NOW, media=media, is_post=is_post)
        return [f for f in post.check("Le marché ouvre samedi.", ctx).findings if f.code == "platform_media"]

    (text_only,) = codes(Platform.INSTAGRAM, ())
    assert "sans image" in text_only.message and text_only.severity is Severity.BLOCK
    assert codes(Platform.INSTAGRAM, ((photo,))) == [] and codes(Platform.INSTAGRAM, (), is_post=False) == []
    (png,) = codes(Platform.INSTAGRAM, (Media(name="affiche.png", alt="Affiche", mime="image/png"),))
    assert "affiche.png" in png.message and "JPEG" in png.message
    heavy = Media(name="vue.jpg", alt="Vue aérienne", size=2_000_001, mime="image/jpeg")
    (too_heavy,) = codes(Platform.BLUESKY, (heavy,))
    assert "vue.jpg" in too_heavy.message and "2 Mo" in too_heavy.message
    assert codes(Platform.MASTODON, (heavy,)) == [] and codes(Platform.FACEBOOK, ()) == []
    (too_many,) = codes(Platform.MASTODON, (photo,) * 5)
    assert "4 images au plus" in too_many.message
    for platform in (Platform.X, Platform.FACEBOOK):  # their connectors do not upload images: say so now
        (no_upload,) = codes(platform, (photo,))
        assert "pas encore d'images" in no_upload.message and no_upload.severity is Severity.BLOCK
        assert codes(platform, ()) == []


def test_signature_missing_and_impersonation():
    missing = only(check("Bonjour, c'est noté."), "signature_missing")[0]
    assert missing.suggestion == "\n— Julie" and missing.severity is Severity.BLOCK
    result = check("Bonjour, c'est noté ^KB\n— Karim\n— Julie")
    found = only(result, "signature_mismatch")
    assert {f.severity for f in found} == {Severity.BLOCK} and len(found) == 2


def test_severity_override_and_off():
    charter = replace(default_charter(),
                      severities={"banned_term": Severity.WARN, "excessive_punctuation": Severity.OFF})
    result = check("N'importe quoi !!!\n— Julie", charter=charter)
    assert only(result, "banned_term")[0].severity is Severity.WARN
    assert "excessive_punctuation" not in result.codes and not result.blocked


def test_findings_are_sorted_and_recordable():
    result = check("MERCI MERCI MERCI !!! problème\n— Julie")
    assert [f.start for f in result.findings] == sorted(f.start for f in result.findings)
    record = result.records()[0]
    assert set(record) == {"code", "severity", "message", "start", "end", "suggestion"}


def test_personal_data_of_a_resident_is_blocked_but_city_contacts_are_fine():
    text = ("Madame, nous avons noté le 06 12 34 56 78 et camille.durand@gmail.com. "
            "Contact : 01 23 45 67 89 ou contact@valmont.fr\n— Julie")
    found = only(check(text), "personal_data")
    spans = {text[f.start:f.end] for f in found}
    assert any("06 12 34 56 78" in s for s in spans) and any("gmail.com" in s for s in spans)
    assert not any("01 23 45 67 89" in s or "valmont.fr" in s for s in spans)
    assert all(f.severity is Severity.BLOCK and "message privé" in f.message for f in found)
