"""An account's domain: the registered domain of a website, URL or email address as typed into a
form (`https://www.app.acme.co.uk/x` -> `acme.co.uk`), never a free-mail or profile site's.

Pure and offline: the public suffixes are tldextract's bundled snapshot (never downloaded),
the free-mail lists are dealreg/data's, read on first use.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import tldextract

from dealreg import data
from dealreg.text import REMOVE_INVISIBLE

# Offline: no suffix-list download, no disk cache; the snapshot in the wheel is used.
# Private suffixes keep foo.github.io and bar.github.io apart.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)*")
STRIP_AROUND = " \t\r\n<>\"'"
_URL_END = re.compile(r"[/?#\\]")
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*")


def split_url(value: str) -> tuple[str, str] | None:
    """Host (lower case, no trailing dot) and path of a URL, a bare host[/path] or user@host."""
    rest = _after_scheme(value)
    netloc, slash, path = rest.partition("/")
    if "?" in netloc or "#" in netloc or "\\" in netloc:  # the host ends before the first of these
        end = _URL_END.search(rest)
        assert end is not None  # one of them is in `rest`
        netloc, path = rest[: end.start()], rest[end.start():]
        if path[0] != "/":
            path = ""  # a query or fragment right after the host: no path
    elif slash:
        path = "/" + path
    if "[" in netloc or "]" in netloc:
        return _split_ipv6_url(value)
    host = _host_of(netloc.lower())
    if "?" in path or "#" in path:
        path = path.split("?", 1)[0].split("#", 1)[0]
    return (host, path) if host else None


def _after_scheme(v: str) -> str:
    """`v` without its scheme ("https://", "//"); a "://" later on is not one."""
    if "://" in v:
        scheme, _, rest = v.partition("://")
        if scheme in ("https", "http") or _SCHEME.fullmatch(scheme.lower()):  # the usual two, without the regex
            return rest
    elif v.startswith("//"):
        return v[2:]
    return v


def _host_of(netloc: str) -> str:
    """The host in a (lower-case) network location: no user information, port or trailing dot."""
    if "@" in netloc:
        netloc = netloc.rpartition("@")[2]
    if ":" in netloc:
        netloc = netloc.partition(":")[0]
    return netloc.rstrip(".")


def _split_ipv6_url(value: str) -> tuple[str, str] | None:
    """An IPv6 literal ("http://[::1]:8080/"): rare, so urllib judges it."""
    from urllib.parse import urlsplit

    if "://" not in value and not value.startswith("//"):
        value = "//" + value  # so urlsplit reads a bare host as the network location
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced "[" taken for an IPv6 address
        return None
    return (host.rstrip("."), parts.path) if host else None


def typed(value: str) -> str:
    """A URL, host or address as typed into a form, trimmed, lower-cased and (for non-ASCII
    text) NFKC-folded, invisible characters removed, without a "mailto:"."""
    v = value.strip(STRIP_AROUND).lower()
    if not v.isascii():
        v = unicodedata.normalize("NFKC", v.translate(REMOVE_INVISIBLE))
    return v.removeprefix("mailto:")


# The suffix rules of tldextract's bundled snapshot, public and private ("com", "co.uk", "*.ck",
# "!www.ck", "github.io"), and every right-hand part of one ("uk" of "co.uk"), for `_registered`.
_RULES = frozenset(_EXTRACT.tlds)
_RULE_PARTS = frozenset(".".join(labels[k:]) for labels in (rule.split(".") for rule in _RULES)
                        for k in range(len(labels)))
_WILDCARD_PARENTS = frozenset(rule[2:] for rule in _RULES if rule.startswith("*."))  # "ck" of "*.ck"


def _registered(host: str) -> str | None:
    """The registered domain of a host (lower case, no trailing dot); None if it has none.

    For an ASCII host this walks tldextract's own rules from the right, as its trie does, in
    about a fifth of the time a call to tldextract takes: 0.16 s of the 100,000-registration
    index build (bench/RESULTS.md). A test compares the two under every rule of the snapshot."""
    if not host.isascii() or "xn--" in host:  # internationalised: tldextract decodes punycode
        if not _HOST.fullmatch(host):
            return None
        return _EXTRACT(host).top_domain_under_public_suffix or None
    labels = host.split(".")
    if "" in labels or not host.replace(".", "").replace("-", "").replace("_", "").isalnum():
        return None  # an empty label, a space, punctuation: not a host name (as _HOST says)
    start = len(labels)  # where the public suffix begins
    suffix = ""
    for i in range(len(labels) - 1, -1, -1):
        parent, suffix = suffix, f"{labels[i]}.{suffix}" if suffix else labels[i]
        if suffix in _RULE_PARTS:  # some rule goes on to the left: follow it
            if suffix in _RULES:
                start = i
            continue
        if parent in _WILDCARD_PARENTS:  # a wildcard rule, unless an exception names this host
            start = i + 1 if f"!{suffix}" in _RULES else i
        break
    if start in (0, len(labels)):
        return None  # no public suffix, or the host is a suffix itself
    return host if start == 1 else ".".join(labels[start - 1:])  # most hosts are their registered domain


@lru_cache(maxsize=4096)  # a decision asks for its website's domain again for its checks and its reason
def registered_domain(value: str) -> str | None:
    """The registered domain in a URL, bare host or email address ("https://www.acme.co.uk/x"
    -> "acme.co.uk"); None when there is none (empty, "n/a", localhost, an IP address)."""
    return _registered_domain(value)


def _registered_domain(value: str) -> str | None:
    parts = split_url(typed(value))
    return _registered(parts[0]) if parts else None


@cache
def _free_mail() -> frozenset[str]:
    allowed = frozenset(data.lines("free_mail_allow.txt"))
    return frozenset(data.lines("free_mail_domains.txt")) - allowed


def is_free_mail(domain: str) -> bool:
    """Whether a registered domain belongs to a free-mail or ISP mailbox provider."""
    return domain.lower() in _free_mail()


def email_domain(email: str) -> str | None:
    """The registered domain of an email address's host; None if it is not an email."""
    local, at, host = email.strip(STRIP_AROUND).rpartition("@")
    if not at or not local.strip():
        return None
    return _registered_domain(host)


# Sites whose pages stand for other companies: "facebook.com/acme" in a website field is
# Acme's page, not Meta's. Only the bare domain means the platform itself.
_PROFILE_SITES = frozenset({
    "linkedin.com", "facebook.com", "fb.com", "instagram.com", "twitter.com", "x.com",
    "youtube.com", "tiktok.com", "pinterest.com", "linktr.ee", "crunchbase.com", "angel.co",
    "wellfound.com", "medium.com", "github.com", "gitlab.com", "google.com", "goo.gl",
    "bit.ly", "yelp.com", "glassdoor.com", "zoominfo.com", "notion.so", "calendly.com",
})


def account_domain(website: str = "", email: str = "") -> str | None:
    """The account's domain key: the website's registered domain or, when the website gives
    none, the email's. Free-mail domains and profile pages (linkedin.com/company/…) are never keys.

    Not cached: a registry's websites are each read once, and would only churn the cache."""
    return account_domains(website, email)[0]


def account_domains(website: str = "", email: str = "") -> tuple[str | None, str | None, str | None, str | None]:
    """The account's domains: (its domain key as `account_domain` gives it; the email's domain
    when that is another company domain than the website's; the website's domain and the email's
    when they are free-mail or ISP domains). The second is a domain of the account too: staff
    write from bloomberg.net beside bloomberg.com. The last two are no account keys, but one is
    the provider's own website when the record is the provider's (Proton at proton.me), which a
    name that agrees can tell."""
    free = _free_mail()
    site = _registered_domain(website) if website else None
    site_provider = None
    if site is not None and (site in free or (site in _PROFILE_SITES and _is_page(website))):
        site, site_provider = None, (site if site in free else None)
    if not email:  # most registrations
        return site, None, site_provider, None
    mail = email_domain(email)
    mail_provider = None
    if mail is not None and mail in free:
        mail, mail_provider = None, mail
    if site is None:
        return mail, None, site_provider, mail_provider
    return site, (mail if mail != site else None), site_provider, mail_provider


def _is_page(url: str) -> bool:
    """Whether a URL has a path: "linkedin.com/company/acme" is Acme's page, "linkedin.com" LinkedIn."""
    parts = split_url(typed(url))
    return bool(parts and parts[1].strip("/"))
