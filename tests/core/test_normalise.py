"""The account keys (dealreg.normalise): one row per real-world variation."""

import subprocess
import sys
import textwrap
from importlib.resources import files
from pathlib import Path

import pytest

from dealreg.normalise import (
    NameKey,
    account_domain,
    clean_text,
    defang,
    repair_mojibake,
    duns_key,
    email_domain,
    is_free_mail,
    linkedin_key,
    name_key,
    registered_domain,
)

P = pytest.param
DATA = files("dealreg") / "data"


def data_entries(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [entry for line in lines if (entry := line.split("#", 1)[0].strip())]


# --- clean_text --------------------------------------------------------------------------

CLEAN_TEXT = [
    P("  ACME   Corp \t", "acme corp", id="case and spaces"),
    P("Acme\u00a0Corp", "acme corp", id="no-break space"),
    P("Ｓｉｅｍｅｎｓ\u3000ＡＧ", "siemens ag", id="full-width letters and space"),
    P("Nestlé", "nestle", id="accent"),
    P("SOCIÉTÉ GÉNÉRALE", "societe generale", id="upper-case accents"),
    P("Straße", "strasse", id="sharp s"),
    P("Ørsted", "orsted", id="o with stroke"),
    P("Æon Œuvre", "aeon oeuvre", id="ligatures"),
    P("Łódź", "lodz", id="l with stroke"),
    P("Đorđe Þór", "dorde thor", id="d with stroke and thorn"),
    P("İstanbul", "istanbul", id="dotted capital I"),
    P("Ac\u200bme", "acme", id="zero-width space"),
    P("Ac\u00adme", "acme", id="soft hyphen"),
    P("\ufeffAcme\u2060", "acme", id="byte-order mark and word joiner"),
    P("\u0410\u0441me", "acme", id="Cyrillic A and s in a Latin word"),
    P("\u0410\u0421\u041c\u0415", "acme", id="all-Cyrillic look-alike, upper case"),
    P("\u0430\u0441\u043c\u0435", "acme", id="all-Cyrillic look-alike, lower case"),
    P("\u0391\u0392\u0392", "abb", id="Greek capitals that look Latin"),
    P("McDonald\u2019s", "mcdonald's", id="typographic apostrophe"),
    P("McDonald\u00b4s", "mcdonald's", id="acute accent typed as apostrophe"),
    P("McDonald`s", "mcdonald's", id="backtick typed as apostrophe"),
    P("トヨタ ガス", "トヨタ ガス", id="kana keep their voicing marks"),
    P("", "", id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), CLEAN_TEXT)
def test_clean_text(text, expected):
    assert clean_text(text) == expected
    assert clean_text(expected) == expected  # idempotent


# --- repair_mojibake -----------------------------------------------------------------------

MOJIBAKE = [
    P("K\u00c3\u00a4rcher", "Kärcher", id="UTF-8 read as Windows-1252"),
    P("Nestl\u00c3\u0192\u00c2\u00a9", "Nestlé", id="read as Windows-1252 twice"),
    P("\u00c3\u02dcrsted", "Ørsted", id="a Windows-1252 symbol as the second byte"),
    P("\u00c5\u00bbabka Polska", "Żabka Polska", id="Polish"),
    P("T\u00c3\u00bcrk Hava Yollar\u00c4\u00b1", "Türk Hava Yolları", id="Turkish dotless i"),
    P("Konf\u00c3\u00ado", "Konfío", id="a soft hyphen as the second byte"),
    P("S\u00c3O MARTINHO S.A.", "S\u00c3O MARTINHO S.A.", id="a real Portuguese \u00c3 stays"),
    P("JO\u00c3O FORTES", "JO\u00c3O FORTES", id="another real \u00c3"),
    P("Kärcher", "Kärcher", id="already right"),
    P("Acme", "Acme", id="ASCII"),
]


@pytest.mark.parametrize(("text", "expected"), MOJIBAKE)
def test_repair_mojibake(text, expected):
    assert repair_mojibake(text) == expected
    assert name_key(text) == name_key(expected)  # names are repaired before they are keyed


# --- name_key ----------------------------------------------------------------------------

NAMES = [
    # legal forms, one per country style
    P("Acme Inc", "acme", "inc", id="Inc"),
    P("Acme, Inc.", "acme", "inc", id="comma Inc dot"),
    P("Acme LLC", "acme", "llc", id="LLC"),
    P("Acme L.L.C.", "acme", "llc", id="L.L.C."),
    P("Acme Ltd", "acme", "ltd", id="Ltd"),
    P("Acme Limited", "acme", "limited", id="Limited"),
    P("Acme Corp.", "acme", "corp", id="Corp"),
    P("Acme Corporation", "acme", "corporation", id="Corporation"),
    P("Acme Incorporated", "acme", "incorporated", id="Incorporated"),
    P("Acme Co.", "acme", "co", id="Co"),
    P("Acme & Co.", "acme", "and co", id="& Co"),
    P("Acme plc", "acme", "plc", id="plc"),
    P("Acme LLP", "acme", "llp", id="LLP"),
    P("Acme GmbH", "acme", "gmbh", id="GmbH"),
    P("Acme GmbH & Co. KG", "acme", "gmbh and co kg", id="GmbH & Co. KG"),
    P("Siemens AG", "siemens", "ag", id="AG"),
    P("Siemens Aktiengesellschaft", "siemens", "aktiengesellschaft", id="AG spelled out"),
    P("Nestlé S.A.", "nestle", "sa", id="S.A. with accent"),
    P("Türk Hava Yolları A.O.", "turk hava yollari", "ao", id="Turkish A.O., dotless i"),
    P("Acme S. A.", "acme", "s a", id="S. A. spaced"),
    P("Acme SAS", "acme", "sas", id="SAS"),
    P("Acme S.A.R.L.", "acme", "sarl", id="SARL"),
    P("Acme B.V.", "acme", "bv", id="BV"),
    P("Acme N.V.", "acme", "nv", id="NV"),
    P("Acme Pty Ltd", "acme", "pty ltd", id="Pty Ltd"),
    P("Acme (Pty.) Ltd.", "acme", "pty ltd", id="(Pty.) Ltd."),
    P("Nokia Oyj", "nokia", "oyj", id="Oyj"),
    P("Acme Oy", "acme", "oy", id="Oy"),
    P("Volvo AB", "volvo", "ab", id="AB"),
    P("Ericsson AB (publ)", "ericsson", "ab publ", id="AB (publ)"),
    P("Equinor ASA", "equinor", "asa", id="ASA"),
    P("Kongsberg Maritime AS", "kongsberg maritime", "as", id="AS"),
    P("Maersk A/S", "maersk", "a s", id="A/S"),
    P("Acme K.K.", "acme", "kk", id="KK"),
    P("Acme Pte. Ltd.", "acme", "pte ltd", id="Pte Ltd"),
    P("Ferrari S.p.A.", "ferrari", "spa", id="S.p.A."),
    P("Acme Sdn. Bhd.", "acme", "sdn bhd", id="Sdn Bhd"),
    P("Grupo Bimbo, S.A.B. de C.V.", "grupo bimbo", "sab de cv", id="S.A.B. de C.V."),
    P("Acme Sp. z o.o.", "acme", "sp z oo", id="Sp. z o.o."),
    P("Acme s.r.o.", "acme", "sro", id="s.r.o."),
    P("Acme OÜ", "acme", "ou", id="Estonian OU"),
    P("Pérez y Cía.", "perez", "and cia", id="y Cia"),
    # legal forms written before the name
    P("PT Bank Central Asia Tbk", "bank central asia", "pt tbk", id="PT ... Tbk"),
    P("OOO Romashka", "romashka", "ooo", id="leading OOO"),
    P("Kabushiki Kaisha Toshiba", "toshiba", "kabushiki kaisha", id="leading Kabushiki Kaisha"),
    P("Aktiebolaget Volvo", "volvo", "aktiebolaget", id="leading Aktiebolaget"),
    P("\u041e\u041e\u041e Acme", "acme", "ooo", id="leading Cyrillic OOO"),
    # repeated stripping, descriptive words kept
    P("Acme Holdings Pty Ltd", "acme holdings", "pty ltd", id="keeps Holdings"),
    P("Acme Group International Holdings", "acme group international holdings", "", id="descriptive words stay"),
    P("Acme Inc., Ltd.", "acme", "inc ltd", id="two forms"),
    P("Acme Co., Ltd.", "acme", "co ltd", id="Co., Ltd."),
    P("Acme Company Ltd", "acme", "company ltd", id="Company Ltd"),
    P("Company of Acme Inc", "company of acme", "inc", id="company in the middle stays"),
    # never stripped to nothing
    P("The Limited", "limited", "", id="The Limited"),
    P("Company", "company", "", id="Company alone"),
    P("AG", "ag", "", id="AG alone"),
    P("Inc.", "inc", "", id="Inc alone"),
    # the, and, apostrophes, initials
    P("The Acme Company", "acme", "company", id="leading The"),
    P("The Coca-Cola Company", "coca cola", "company", id="hyphen"),
    P("McDonald's Corporation", "mcdonalds", "corporation", id="apostrophe"),
    P("McDonald\u2019s", "mcdonalds", "", id="typographic apostrophe"),
    P("Procter & Gamble", "procter and gamble", "", id="ampersand"),
    P("Procter and Gamble", "procter and gamble", "", id="and"),
    P("Procter + Gamble", "procter and gamble", "", id="plus"),
    P("Moët et Chandon", "moet and chandon", "", id="French et"),
    P("Müller und Söhne", "muller and sohne", "", id="German und"),
    P("AT&T Inc.", "at and t", "inc", id="ampersand inside a word"),
    P("Canal+", "canal", "", id="trailing plus"),
    P("I.B.M.", "ibm", "", id="dotted initials"),
    P("I.B.M. Corp", "ibm", "corp", id="dotted initials and Corp"),
    P("A. P. Moller - Maersk A/S", "a p moller maersk", "a s", id="spaced initials"),
    P("Web 2.0 Inc", "web 2 0", "inc", id="a version number is not initials"),
    P("E.ON SE", "e on", "se", id="a dotted word is not initials"),
    P("Salesforce.com, Inc.", "salesforce", "inc", id="web suffix styled into the name"),
    P("Seznam.cz, a.s.", "seznam", "as", id="a country's web suffix styled into the name"),
    P("Just Eat Takeaway.com N.V.", "just eat takeaway", "nv", id="web suffix before a legal form"),
    # diacritics, scripts, invisible characters
    P("Société Générale", "societe generale", "", id="accents"),
    P("Ørsted A/S", "orsted", "a s", id="o with stroke"),
    P("Straße GmbH", "strasse", "gmbh", id="sharp s"),
    P("\u0410\u0441me", "acme", "", id="Cyrillic look-alikes"),
    P("Acme\u200b Corp", "acme", "corp", id="zero-width space"),
    P("Ａｃｍｅ", "acme", "", id="full-width"),
    # synonyms
    P("Acme Intl Ltd", "acme international", "ltd", id="Intl"),
    P("Acme Int'l", "acme international", "", id="Int'l"),
    P("Acme Mfg. Co.", "acme manufacturing", "co", id="Mfg"),
    P("First Natl Bank", "first national bank", "", id="Natl"),
    P("Acme Tech Svcs", "acme tech services", "", id="Svcs; tech stays"),
    P("Philip Morris Cos", "philip morris companies", "", id="Cos at the end"),
    P("COS", "cos", "", id="COS alone is a name"),
    # nothing to key on
    P("", "", "", id="empty"),
    P(" - / . ", "", "", id="punctuation only"),
]


@pytest.mark.parametrize(("name", "key", "legal_form"), NAMES)
def test_name_key(name, key, legal_form):
    assert name_key(name) == NameKey(key, tuple(key.split()), legal_form)


@pytest.mark.parametrize(("name", "key", "legal_form"), NAMES)
def test_name_key_is_idempotent(name, key, legal_form):
    once = name_key(name).key
    assert name_key(once).key == once


@pytest.mark.parametrize(("name", "key", "legal_form"), NAMES)
def test_name_key_fast_path_agrees_with_the_general_one(name, key, legal_form):
    # An invisible character sends ASCII input through the general (Unicode) path.
    assert name_key(name + "\u200b") == name_key(name)


SAME_ACCOUNT = [
    P(["Procter & Gamble", "Procter and Gamble", "Procter + Gamble", "The Procter & Gamble Company",
       "PROCTER & GAMBLE CO."], id="P&G"),
    P(["Acme", "\u0410\u0441me", "Acme\u200b Corp", "Ａｃｍｅ", "ACME, Inc.", "The Acme Company", "acme ltd."],
      id="Acme"),
    P(["McDonald's", "McDonald\u2019s Corporation", "McDonalds", "McDonald\u00b4s Corp."], id="McDonald's"),
    P(["Nestlé S.A.", "Nestle", "NESTLE SA", "Nestlé S. A."], id="Nestle"),
    P(["Société Générale", "Societe Generale SA", "SOCIÉTÉ GÉNÉRALE S.A."], id="Societe Generale"),
    P(["IBM", "I.B.M.", "I.B.M. Corp", "ibm corporation"], id="IBM"),
]


@pytest.mark.parametrize("names", SAME_ACCOUNT)
def test_spellings_of_one_company_share_a_key(names):
    assert len({name_key(n).key for n in names}) == 1, {n: name_key(n).key for n in names}


def test_legal_forms_file_is_tokenised_and_every_form_strips():
    problems = []
    for entry in data_entries("legal_forms.txt"):
        if entry.startswith("^"):
            form = entry[1:]
            got = name_key(f"{form} Acme Widgets")
        else:
            form = entry
            got = name_key(f"Acme Widgets {form}")
        if got != NameKey("acme widgets", ("acme", "widgets"), form):
            problems.append((entry, got))
    assert not problems


# --- domains -----------------------------------------------------------------------------

DOMAINS = [
    P("https://www.app.acme.co.uk/x?y", "acme.co.uk", id="subdomains, path, query"),
    P("HTTP://WWW.ACME.COM:8080/path#frag", "acme.com", id="upper case, port, fragment"),
    P("acme.com.", "acme.com", id="trailing dot"),
    P("  acme.com  ", "acme.com", id="surrounding spaces"),
    P("acme.com/pricing", "acme.com", id="bare host with path"),
    P("//acme.com", "acme.com", id="scheme-relative"),
    P("jane@Mail.Acme.io", "acme.io", id="email with subdomain"),
    P("mailto:x@acme.com", "acme.com", id="mailto"),
    P("mailto:x@acme.com?subject=Hi", "acme.com", id="mailto with query"),
    P("<jane@acme.com>", "acme.com", id="angle brackets"),
    P("Jane Doe <jane@acme.com>", "acme.com", id="display name"),
    P("http://user:pw@acme.com", "acme.com", id="userinfo"),
    P("acme.com/login?next=https://other.com", "acme.com", id="a URL in the query is not the host"),
    P("acme.com?ref=clay", "acme.com", id="query right after the host"),
    P("acme.com#about", "acme.com", id="fragment right after the host"),
    P("acme.com\\about", "acme.com", id="backslash for slash"),
    P("ftp://files.acme.com", "acme.com", id="another scheme"),
    P("www.acme.co.uk.", "acme.co.uk", id="two-label suffix, trailing dot"),
    P("a.b.c.acme.com.au", "acme.com.au", id="deep subdomains"),
    P("acme.co.ck", "acme.co.ck", id="wildcard suffix (*.ck)"),
    P("www.ck", "www.ck", id="wildcard exception (!www.ck)"),
    P("acme..com", None, id="empty label"),
    P("ac me.com", None, id="space in the host"),
    P("foo.github.io", "foo.github.io", id="private suffix: github.io (foo)"),
    P("https://bar.github.io/docs", "bar.github.io", id="private suffix: github.io (bar)"),
    P("https://shop.myshopify.com/products", "shop.myshopify.com", id="private suffix: myshopify.com"),
    P("acme.com.au", "acme.com.au", id="com.au"),
    P("www.acme.co.jp", "acme.co.jp", id="co.jp"),
    P("bbc.co.uk", "bbc.co.uk", id="co.uk"),
    P("MÜNCHEN.de", "münchen.de", id="IDN in Unicode"),
    P("xn--mnchen-3ya.de", "xn--mnchen-3ya.de", id="IDN in punycode kept as given"),
    P("acme.com\u200b", "acme.com", id="zero-width space pasted with it"),
    P("ａｃｍｅ．ｃｏｍ", "acme.com", id="full-width"),
    P("", None, id="empty"),
    P("   ", None, id="spaces"),
    P("n/a", None, id="n/a"),
    P("N/A", None, id="N/A"),
    P("-", None, id="dash"),
    P("none", None, id="none"),
    P("not a domain", None, id="words"),
    P("acme", None, id="no suffix"),
    P("co.uk", None, id="a public suffix alone"),
    P("github.io", None, id="a private suffix alone"),
    P("localhost", None, id="localhost"),
    P("http://localhost:3000/x", None, id="localhost URL"),
    P("127.0.0.1", None, id="IPv4"),
    P("http://192.168.0.1/admin", None, id="IPv4 URL"),
    P("http://[::1]:8080/", None, id="IPv6 URL"),
    P("http://[oops", None, id="broken IPv6 bracket"),
]


@pytest.mark.parametrize(("value", "expected"), DOMAINS)
def test_registered_domain(value, expected):
    assert registered_domain(value) == expected


EMAILS = [
    P("jane@acme.com", "acme.com", id="plain"),
    P("Jane@Mail.Acme.io", "acme.io", id="subdomain, upper case"),
    P("<jane@acme.com>", "acme.com", id="angle brackets"),
    P("mailto:jane@acme.com", "acme.com", id="mailto"),
    P("jane@gmail.com", "gmail.com", id="free mail is still a domain"),
    P("acme.com", None, id="no @"),
    P("@acme.com", None, id="no local part"),
    P("jane@", None, id="no host"),
    P("jane@localhost", None, id="no public suffix"),
    P("", None, id="empty"),
]


@pytest.mark.parametrize(("email", "expected"), EMAILS)
def test_email_domain(email, expected):
    assert email_domain(email) == expected


ACCOUNT_DOMAINS = [
    P("", "jane@gmail.com", None, id="gmail"),
    P("", "jane@googlemail.com", None, id="googlemail"),
    P("", "jane@outlook.com", None, id="outlook"),
    P("", "jane@hotmail.co.uk", None, id="hotmail.co.uk"),
    P("", "jane@yahoo.com", None, id="yahoo"),
    P("", "jane@yahoo.co.jp", None, id="yahoo.co.jp"),
    P("", "jane@icloud.com", None, id="icloud"),
    P("", "jane@proton.me", None, id="proton"),
    P("", "jane@gmx.de", None, id="gmx.de"),
    P("", "jane@web.de", None, id="web.de"),
    P("", "jane@t-online.de", None, id="t-online.de"),
    P("", "jane@qq.com", None, id="qq.com"),
    P("", "jane@mail.ru", None, id="mail.ru"),
    P("", "jane@naver.com", None, id="naver.com"),
    P("", "jane@comcast.net", None, id="ISP: comcast.net"),
    P("", "jane@btinternet.com", None, id="ISP: btinternet.com"),
    P("", "jane@zohomail.com", None, id="zohomail.com"),
    P("", "jack@alibaba.com", "alibaba.com", id="allowed: alibaba.com"),
    P("", "jane@zoho.com", "zoho.com", id="allowed: zoho.com"),
    P("https://www.alibaba.com", "", "alibaba.com", id="allowed website: alibaba.com"),
    P("", "jane@acme.com", "acme.com", id="company email"),
    P("https://www.acme.com", "jane@gmail.com", "acme.com", id="website with a free-mail contact"),
    P("acme.com", "jane@acme-partners.com", "acme.com", id="website wins over email"),
    P("n/a", "jane@acme.com", "acme.com", id="unusable website: email"),
    P("gmail.com", "jane@acme.com", "acme.com", id="free-mail website: email"),
    P("gmail.com", "", None, id="free-mail website, no email"),
    P("https://www.linkedin.com/company/acme", "jane@acme.com", "acme.com", id="profile page as website: email"),
    P("facebook.com/acmebakery", "", None, id="profile page as website, no email"),
    P("https://www.facebook.com/", "", "facebook.com", id="the platform itself"),
    P("", "", None, id="nothing"),
]


ACCOUNT_DOMAINS_ALL = [
    P("bloomberg.com", "j.ortiz@bloomberg.net", ("bloomberg.com", "bloomberg.net", None, None), id="a second domain"),
    P("bloomberg.com", "j.ortiz@bloomberg.com", ("bloomberg.com", None, None, None), id="the same domain once"),
    P("", "j.ortiz@bloomberg.net", ("bloomberg.net", None, None, None), id="the email alone"),
    P("https://proton.me", "", (None, None, "proton.me", None), id="a provider's own site"),
    P("acme.com", "jane@gmail.com", ("acme.com", None, None, "gmail.com"), id="a private address"),
    P("linkedin.com/company/acme", "jane@acme.io", ("acme.io", None, None, None), id="a profile page"),
]


@pytest.mark.parametrize(("website", "email", "expected"), ACCOUNT_DOMAINS_ALL)
def test_account_domains(website, email, expected):
    from dealreg.domains import account_domains

    assert account_domains(website, email) == expected
    assert account_domain(website, email) == expected[0]


@pytest.mark.parametrize(("website", "email", "expected"), ACCOUNT_DOMAINS)
def test_account_domain(website, email, expected):
    assert account_domain(website, email) == expected


def test_is_free_mail_takes_any_case():
    assert is_free_mail("GMAIL.COM")
    assert not is_free_mail("acme.com")


@pytest.mark.parametrize("name", ["free_mail_domains.txt", "free_mail_allow.txt"])
def test_free_mail_files_hold_registered_domains_only(name):
    assert [d for d in data_entries(name) if registered_domain(d) != d] == []


def test_allowed_domains_are_all_on_the_free_mail_list():
    assert set(data_entries("free_mail_allow.txt")) <= set(data_entries("free_mail_domains.txt"))


def test_domains_never_touch_the_network():
    """A fresh interpreter with sockets refused loads the suffix list and answers.

    Sockets are refused after the import: urllib3 (imported by tldextract) opens a
    loopback socket at import time to probe for IPv6, which is not network access.
    """
    script = textwrap.dedent(
        """
        import socket

        from dealreg.normalise import account_domain, registered_domain

        attempts = []

        def refuse(*args, **kwargs):
            attempts.append(args)  # recorded: tldextract would swallow the error and fall back
            raise OSError("network access attempted")

        class NoSocket(socket.socket):
            def __init__(self, *args, **kwargs):
                refuse()

        socket.socket = NoSocket
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        assert registered_domain("https://www.app.acme.co.uk/x") == "acme.co.uk"
        assert registered_domain("foo.github.io") == "foo.github.io"
        assert account_domain("", "jane@gmail.com") is None
        assert not attempts, attempts
        print("offline ok")
        """
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "offline ok"


# --- LinkedIn ----------------------------------------------------------------------------

LINKEDIN = [
    P("https://www.linkedin.com/company/acme-inc/about/", "li:acme-inc", id="about page"),
    P("uk.linkedin.com/company/Acme-Inc?trk=public_profile", "li:acme-inc", id="country subdomain, tracking"),
    P("linkedin.com/company/acme-inc/jobs/", "li:acme-inc", id="no scheme, jobs page"),
    P("http://linkedin.com/company/acme-inc", "li:acme-inc", id="http, no www"),
    P("https://m.linkedin.com/company/acme-inc/", "li:acme-inc", id="mobile"),
    P("https://de.linkedin.com/company/acme-inc/people/?originalSubdomain=de", "li:acme-inc",
      id="people page, originalSubdomain"),
    P("https://www.linkedin.com/company/acme-inc/life/engineering/", "li:acme-inc", id="life page"),
    P("https://www.linkedin.com/company/acme-inc/posts/?feedView=all", "li:acme-inc", id="posts page"),
    P("https://www.linkedin.com/company/acme-inc#main", "li:acme-inc", id="fragment"),
    P("HTTPS://WWW.LINKEDIN.COM/COMPANY/ACME-INC", "li:acme-inc", id="upper case"),
    P(" <https://www.linkedin.com/company/acme-inc> ", "li:acme-inc", id="angle brackets"),
    P("https://www.linkedin.com/company/12345/", "li_id:12345", id="numeric id"),
    P("https://www.linkedin.com/sales/company/12345?_ntb=x", "li_id:12345", id="Sales Navigator id"),
    P("https://www.linkedin.com/showcase/acme-cloud/", "li_showcase:acme-cloud", id="showcase page"),
    P("https://www.linkedin.com/school/stanford-university/", "li_school:stanford-university", id="school page"),
    P("https://www.linkedin.com/company/soci%C3%A9t%C3%A9-g%C3%A9n%C3%A9rale/", "li:société-générale",
      id="percent-encoded"),
    P("linkedin.com/company/SOCI%C3%89T%C3%89-G%C3%89N%C3%89RALE", "li:société-générale",
      id="percent-encoded upper case"),
    P("https://www.linkedin.com/company/acme-inc\u200b/", "li:acme-inc", id="zero-width space pasted with it"),
    P("https://www.linkedin.com/in/jane", None, id="person profile"),
    P("acme-inc", None, id="bare slug"),
    P("company/acme-inc", None, id="path without host"),
    P("https://acme.com/company/acme-inc", None, id="another host"),
    P("https://linkedin.com.evil.example/company/acme", None, id="look-alike host"),
    P("https://www.linkedin.com/", None, id="home page"),
    P("https://www.linkedin.com/company/", None, id="no slug"),
    P("https://www.linkedin.com/sales/company/acme", None, id="Sales Navigator without id"),
    P("https://lnkd.in/abc", None, id="short link"),
    P("", None, id="empty"),
]


@pytest.mark.parametrize(("url", "expected"), LINKEDIN)
def test_linkedin_key(url, expected):
    assert linkedin_key(url) == expected


# --- DUNS --------------------------------------------------------------------------------

DUNS = [
    P("15-048-3782", "150483782", id="dashes"),
    P("150 483 782", "150483782", id="spaces"),
    P("150.483.782", "150483782", id="dots"),
    P(" 150483782 ", "150483782", id="surrounding spaces"),
    P("060704780", "060704780", id="leading zero kept"),
    P("150483782.0", "150483782", id="a spreadsheet's float"),
    P("", None, id="empty"),
    P("   ", None, id="spaces only"),
]


@pytest.mark.parametrize(("value", "expected"), DUNS)
def test_duns_key(value, expected):
    assert duns_key(value) == expected


BAD_DUNS = [
    P("15048378", "got 8", id="8 digits"),
    P("1504837820", "got 10", id="10 digits"),
    P("60704780.0", "got 8", id="a float that lost its leading zero"),
    P("15-04A-3782", "got '15-04A-3782'", id="a letter"),
    P("DUNS 150483782", "got 'DUNS 150483782'", id="a label"),
    P("１５０４８３７８２", "got '１５０４８３７８２'", id="full-width digits"),
]


@pytest.mark.parametrize(("value", "message"), BAD_DUNS)
def test_duns_key_refuses(value, message):
    with pytest.raises(ValueError, match="DUNS must have 9 digits") as error:
        duns_key(value)
    assert message in str(error.value)


# --- defang ------------------------------------------------------------------------------

DEFANG = [
    P("=SUM(A1:A2)", "'=SUM(A1:A2)", id="equals"),
    P("+1 555 0100", "'+1 555 0100", id="plus"),
    P("-2+3", "'-2+3", id="minus"),
    P("@SUM(A1)", "'@SUM(A1)", id="at"),
    P("\t=1", "'\t=1", id="tab"),
    P("\r=1", "'\r=1", id="carriage return"),
    P("\0x", "'\0x", id="NUL"),
    P("Acme", "Acme", id="plain text"),
    P("a=b", "a=b", id="formula character later"),
    P(" =1", " =1", id="leading space"),
    P("", "", id="empty"),
]


@pytest.mark.parametrize(("value", "expected"), DEFANG)
def test_defang(value, expected):
    assert defang(value) == expected


def test_the_suffix_walk_agrees_with_tldextract_under_every_rule():
    """`registered_domain` walks tldextract's own suffix rules for ASCII hosts (for the index
    build's sake, see dealreg/domains.py); it must give tldextract's answer under every rule
    of the bundled list."""
    from dealreg import domains

    hosts = []
    for rule in sorted(domains._RULES):
        base = rule.lstrip("!").replace("*", "wild")
        hosts += [base, f"acme.{base}", f"www.acme.{base}", f"a.b.acme.{base}"]
    ascii_hosts = [h for h in hosts if h.isascii() and "xn--" not in h]
    disagree = [(h, domains._registered(h), domains._EXTRACT(h).top_domain_under_public_suffix or None)
                for h in ascii_hosts
                if domains._registered(h) != (domains._EXTRACT(h).top_domain_under_public_suffix or None)]
    assert len(ascii_hosts) > 30_000 and disagree == []
