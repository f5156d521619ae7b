"""Redaction: one pass over every text that can reach a report, findings.json, stdout or a bundle.

What is redacted (each rule counts its hits under the name in brackets):

- token shapes by prefix, from the maintained detectors of ``detect-secrets``
  (its plugin classes' ``denylist`` regexes, used as they ship):
  AWS access key ids ``AKIA``/``ASIA``... (``AWSKeyDetector``), GitHub
  ``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_`` (``GitHubTokenDetector``),
  GitLab ``glpat-``... (``GitLabTokenDetector``), Slack ``xox[abposr]-`` and
  webhooks (``SlackDetector``), Stripe ``sk_live_``/``rk_live_``
  (``StripeDetector``), SendGrid, PyPI, OpenAI, Square OAuth and Azure
  ``AccountKey=`` (their detectors). A match is extended to the end of its
  token (detect-secrets matches a fixed length; real Stripe keys are longer);
- token shapes ``detect-secrets`` 1.5 lacks, ours: GitHub ``github_pat_``,
  Google ``AIza``, JWTs (its JWT regex rescans from every ``eyJ`` and is
  quadratic on a long token-like line), ``Bearer`` values, Azure SAS
  ``sig=``, docker config ``"auth": "<base64>"``;
- header, flag and assignment forms: ``Authorization``/``Cookie``/
  ``Set-Cookie``/``X-...-Token|Key|Secret|Auth...:`` header values,
  ``NAME=VALUE`` and ``--NAME VALUE`` where NAME *ends* with a secret word
  (password, passwd, passphrase, pass, pwd, pw, token, secret, credential(s),
  creds, signature, api/access/private/signing/encryption/master/account/
  client/secret/shared/session/auth key), quoted keys (``"password": "..."``,
  ``'token': '...'`` and escaped JSON ``\\"password\\":\\"...\\"``), YAML
  ``password: ...`` lines, ``"name": "DB_PASSWORD", "value": "..."`` pairs,
  ``["--token", "..."]`` list text; command forms ``curl -u user:PW``,
  ``mysql -pPW`` / ``-p PW`` (mysqldump, mariadb...), ``mongo -p PW``,
  ``redis-cli -a PW``, ``docker|podman|helm registry login -p PW``,
  ``sshpass -p PW``, ``openssl -passin pass:PW``; SQL ``PASSWORD '...'`` /
  ``IDENTIFIED BY '...'``; TLS session secrets ``openssl s_client`` prints;
- passwords in URLs (``scheme://user:PW@host``, ``redis://:PW@``) and Go
  DSNs (``user:PW@tcp(host)``); JSON service-account keys are caught by their
  ``"private_key"`` key and their PEM body;
- PEM private key blocks (PEM, OpenSSH, PGP): whole blocks, blocks cut by the
  end of the text (to the end of their body), and ORPHAN bodies whose BEGIN
  line fell outside a log tail: base64 lines right before an unmatched
  ``-----END ... PRIVATE KEY-----``, and PEM-width base64 lines opening the
  text that are not a certificate's;
- base64 of any of the above: every base64 run of 20..65536 characters is
  decoded; when it is UTF-8 text that one of the rules above would redact,
  the whole run goes;
- user patterns: a YAML file named by ``K8SRUN_REDACT_PATTERNS``::

      patterns:
        - name: acme-key                      # shown in the counts
          regex: 'acme_[A-Za-z0-9]{32}'       # whole match redacted, or
        - name: session-cookie
          regex: 'sess=(?P<secret>[0-9a-f]{16,64})'   # only the group "secret"

  A pattern must be bounded (no ``*``, ``+`` or ``{n,}``; nested repeats at
  most 65536 steps), so no pattern can make redaction super-linear; a bad
  file is a ParameterError naming the variable.

What is kept: names that only *contain* a secret word (``token_ttl=5m``,
``--token-ttl 5m``, ``password_min_length=8``, ``secretName: db-creds``,
``DB_PASSWORD_FILE=/run/secrets/db``), Secret names anywhere, certificates,
``--tls-private-key-file PATH``, base64 of harmless text, URLs without a
password.

Linear time: every regex is bounded or literal-anchored so each start
position does bounded work (detect-secrets' Slack and webhook patterns are
unbounded but cannot rescan: ``benchmarks/redact.py`` measures a 10 MB line
and 400 KB lines of near-matches for every rule and prints the ratios).
Strings are redacted in batches (joined by a separator no rule but a PEM
block crosses), so an object of many strings costs one pass per rule, over
only the strings holding one of the rule's hints (found with one ``find``
per hint): an object's name rules read its few paths that say "token" or
"secret", not every string of it.

API::

    redact_text(text) -> str                     the one text pass
    redact_object(obj) -> obj                    a redacted deep copy of any Kubernetes object /
                                                 JSON tree (see the function)
    redact_bundle_object(resource, obj) -> obj   what a bundle / serve may hold (ConfigMaps: keys only)
    redact_display(bundle) -> bundle             a notebook display bundle (text/html kept valid)
    redact_notebook(nb) -> nb                    every output of an executed notebook, in place
    redact_command_result(result) -> result      a node command result (stdout, stderr, error, argv)
    redaction_enabled() -> bool                  False only when K8SRUN_NO_REDACT=1 (or true/yes)
    redaction_status() -> str                    one line for a report header
    redaction_counts() -> {rule: values redacted in this process}
    default_redactor() -> Redactor               the process's redactor (validates the patterns file)
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import dataclasses
import functools
import html
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

REDACTED = "[REDACTED]"
#: set to 1 (or true/yes) to turn redaction off; the report header says so
ENV_DISABLE = "K8SRUN_NO_REDACT"
#: path of a YAML file of extra patterns (module docstring)
ENV_PATTERNS = "K8SRUN_REDACT_PATTERNS"

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
#: separator of a batch: no rule consumes a newline except PEM blocks (a batch they cross is redone one by one)
_SEPARATOR = "\n\x00\n"
_MAX_USER_STEPS = 65536

# ------------------------------------------------------------------ names

_WORDS = (r"(?:password|passwd|passphrase|secret|token|credentials?|creds|signature|apikey"
          r"|(?:api|access|private|signing|encryption|master|account|client|secret|shared|session|auth)[_.\-]?key)")
_SHORT_WORDS = r"(?:pass|pwd|pw)"  # only at a word boundary: not bypass, compass
#: a name that ENDS with a secret word (so token_ttl, secretName, password_file are not secret names)
_NAME = (rf"[\w.\-]{{0,64}}?(?:(?i:{_WORDS})|(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]))(?i:{_SHORT_WORDS}))")
_HEADER_NAME = (r"(?i:(?:proxy-)?authorization|set-cookie|cookie"
                r"|x-(?:[a-z0-9]{1,24}-){0,4}(?:token|key|secret|auth|api-?key|signature|password|session|credentials?))")
_SECRET_NAME = re.compile(rf"(?:{_NAME}|{_HEADER_NAME})")
_NAME_HINTS = ("pass", "pw", "token", "secret", "cred", "signature", "key", "auth", "cookie")


def is_secret_name(name: str) -> bool:
    """True for names of secrets: DB_PASSWORD, api-token, apiKey, X-Auth-Token, example.com/db-password.

    False for names that merely mention one: TOKEN_TTL, secretName, DB_PASSWORD_FILE, bypass.
    """
    name = str(name or "").rsplit("/", 1)[-1]
    return len(name) <= 128 and _secret_name(name)


@functools.lru_cache(maxsize=8192)
def _secret_key(key: Any) -> bool:
    """:func:`is_secret_name` of an object's key, remembered (keys repeat: name, image, ...)."""
    return is_secret_name(key)


@functools.lru_cache(maxsize=8192)
def _secret_name(name: str) -> bool:
    """The match behind :func:`is_secret_name`, remembered: an object's keys repeat (name, image, ...)."""
    return _SECRET_NAME.fullmatch(name) is not None


# ------------------------------------------------------------------ rules

@dataclass(frozen=True)
class Rule:
    """One regex rule: the group ``secret`` (else the whole match) becomes [REDACTED].

    ``hints``: lowercase substrings one of which every match contains (a cheap pre-check);
    ``when``: an extra test of the match; ``origin``: where the regex comes from.
    """

    name: str
    pattern: re.Pattern
    hints: tuple[str, ...] = ()
    when: Callable[[re.Match], bool] | None = None
    origin: str = "k8srun"


def _rule(name: str, regex: str, hints: Iterable[str] = (), *, flags: int = 0,
          when: Callable[[re.Match], bool] | None = None) -> Rule:
    return Rule(name, re.compile(regex, flags), tuple(hints), when)


_TOKEN_TAIL = r"[A-Za-z0-9_\-]{0,256}"


def _library_rules() -> list[Rule]:
    """Prefix detectors of detect-secrets, each match extended to the end of its token."""
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.square_oauth import SquareOAuthDetector
    from detect_secrets.plugins.stripe import StripeDetector

    chosen = [  # (plugin, its denylist entries we use, hints)
        (AWSKeyDetector, AWSKeyDetector.denylist[:1], ("akia", "asia", "a3t", "abia", "acca")),
        (GitHubTokenDetector, GitHubTokenDetector.denylist, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
        (GitLabTokenDetector, GitLabTokenDetector.denylist,
         ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-", "glimt-", "glptt-",
          "glagent-", "gloas-")),
        (SlackDetector, SlackDetector.denylist, ("xox", "hooks.slack.com")),
        (StripeDetector, StripeDetector.denylist, ("k_live_",)),
        (SendGridDetector, SendGridDetector.denylist, ("sg.",)),
        (PypiTokenDetector, PypiTokenDetector.denylist, ("pypi-",)),
        (OpenAIDetector, OpenAIDetector.denylist, ("t3blbkfj",)),
        (SquareOAuthDetector, SquareOAuthDetector.denylist, ("sq0csp-",)),
        (AzureStorageKeyDetector, AzureStorageKeyDetector.denylist, ("accountkey=",)),
    ]
    rules = []
    for plugin, patterns, hints in chosen:
        for pattern in patterns:
            extended = re.compile(f"(?:{pattern.pattern}){_TOKEN_TAIL}", pattern.flags)
            rules.append(Rule(plugin.secret_type, extended, hints, origin=f"detect-secrets {plugin.__name__}"))
    return rules


def _not_trivial(m: re.Match) -> bool:
    value = m["secret"].strip().strip("\"'").lower()
    return value not in ("", "null", "none", "true", "false", "nil", "undefined")


def _secret_named(m: re.Match) -> bool:
    return is_secret_name(m["name"]) and _not_trivial(m)


_NAME_LIKE = re.compile(r"[a-z0-9][a-z0-9.\-]{0,252}")


def _looks_like_secret(m: re.Match) -> bool:
    """``name: value`` mid-line: only values shaped like a secret (not prose, not a Secret's DNS-1123 name)."""
    value = m["secret"]
    return _secret_named(m) and not _NAME_LIKE.fullmatch(value) and (
        any(c.isdigit() for c in value) or len(value) >= 12)


_PEM_MARK = r"-----{0}[ A-Z0-9]{{0,40}}PRIVATE KEY(?: BLOCK)?-----"
_PEM_BEGIN, _PEM_END = _PEM_MARK.format("BEGIN"), _PEM_MARK.format("END")
_QUOTED_VALUE = r"(?(vq)(?:\\.|(?!(?P=vq))[^\\\n]){{1,{0}}}|{1})"
_FLAG_VALUE = _QUOTED_VALUE.format(2048, r"(?!-)[^\s\"<>]{1,2048}")
_KEY_VALUE = _QUOTED_VALUE.format(4096, r"[^\s,}\]]{1,1024}")
_ARG = r"[^\s;|&]{1,4096}"
_VALUE = r"[^\s\"';|&]{1,1024}"


def _command(name: str, command: str, flag: str, hints: tuple[str, ...]) -> Rule:
    """``command ... FLAG VALUE`` on one command line (at most 24 arguments between)."""
    return _rule(name, rf"(?P<pre>(?<![\w./\-])(?:[\w.\-]{{0,64}}/){{0,8}}(?:{command})(?:[ \t]{{1,8}}{_ARG}){{0,24}}?"
                       rf"[ \t]{{1,8}}{flag})(?P<secret>{_VALUE})", hints)


#: rules that see an argv as one command line (redact_object joins command + args)
_ARGV_RULES: list[Rule] = [
    _rule("flag value", rf"(?P<pre>(?<!\S)--?(?P<name>{_NAME})[ \t]{{1,8}}(?P<vq>[\"'])?)"
                        rf"(?P<secret>{_FLAG_VALUE})",
          _NAME_HINTS, when=_secret_named),
    _command("curl -u user:password", r"curl",
             r"(?:-u|--user)(?:[ \t]{1,8}|=)?[\"']?[^\s:\"']{1,256}:", ("curl",)),
    _command("mysql -p", r"mysql\w{0,16}|mariadb\w{0,16}|mongo\w{0,16}", r"-p(?:[ \t]{1,8}(?!-))?",
             ("mysql", "mariadb", "mongo")),
    _command("redis-cli -a", r"redis-cli", r"-a(?:[ \t]{1,8}(?!-))?", ("redis-cli",)),
    _command("registry login -p", r"(?:docker|podman|nerdctl|buildah|skopeo|oras|helm[ \t]{1,8}registry)"
                                  r"[ \t]{1,8}login", r"-p(?:[ \t]{1,8}(?!-))?", ("login",)),
    _command("sshpass -p", r"sshpass", r"-p(?:[ \t]{1,8}(?!-))?", ("sshpass",)),
    _rule("openssl pass:", r"(?P<pre>(?<!\S)-pass(?:in|out)?[ \t]{1,8}pass:)(?P<secret>" + _VALUE + ")",
          ("pass:",)),
]

_TEXT_RULES: list[Rule] = [
    _rule("private key block", _PEM_BEGIN + r"(?:[^-]|-(?!----)){0,65536}" + _PEM_END, ("private key",)),
    _rule("private key block cut short", _PEM_BEGIN + r"(?:(?:\r?\n(?!\x00)|\\r?\\n)(?:[A-Za-z0-9+/=]{1,128}"
          r"(?=[\r\n\\\"']|$)|(?:Proc-Type|DEK-Info|Comment|Version|Hash):[^\n\\]{0,200})){0,4096}", ("private key",)),
    _rule("private key body at the start", r"(?:\A|(?<=\x00\n))(?P<secret>(?:[ \t]{0,8}[A-Za-z0-9+/]{60,76}={0,2}[ \t]{0,8}\r?\n)"
          r"{2,4096})", when=lambda m: _looks_like_key_body(m)),
    # token shapes (the detect-secrets ones are inserted here by Redactor)
    _rule("GitHub fine-grained token", r"github_pat_[A-Za-z0-9_]{22,255}", ("github_pat_",)),
    _rule("Google API key", r"AIza[0-9A-Za-z_\-]{35}" + _TOKEN_TAIL, ("aiza",)),
    _rule("JSON Web Token", r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{5,8192}\.eyJ[A-Za-z0-9_\-]{5,16384}"
                            r"\.[A-Za-z0-9_\-]{0,8192}", ("eyj",)),
    _rule("password in URL", r"(?P<pre>(?<![\w+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,30}://[^\s:/@?#]{0,256}:)"
                             r"(?P<secret>[^\s/?#]{1,1024})(?=@)", ("://",)),
    _rule("password in DSN", r"(?P<pre>(?<![\w.\-/:])[\w.\-]{1,64}:)(?P<secret>[^\s@/:]{1,256})"
                             r"(?=@(?:tcp6?|udp|unix)\()", ("@tcp", "@udp", "@unix")),
    _rule("Azure SAS signature", r"(?P<pre>[?&;](?i:sig)=)(?P<secret>[^&\s\"'#<>]{1,1024})", ("sig=",)),
    _rule("SQL password", r"(?P<pre>(?<!\w)(?i:password|identified[ \t]{1,8}by)[ \t]{0,8}(?:=[ \t]{0,8})?"
                          r"(?:(?i:password)[ \t]{0,4})?\(?[ \t]{0,4}(?P<vq>['\"]))"
                          r"(?P<secret>(?:\\.|(?!(?P=vq))[^\\\n]){1,1024})(?P=vq)", ("password", "identified")),
    *_ARGV_RULES,
    _rule("flag value list", rf"(?P<pre>[\"']--?(?P<name>{_NAME})[\"'][ \t]{{0,4}},[ \t]{{0,4}}[\"'])"
                             r"(?P<secret>[^\"'\n]{1,2048})", _NAME_HINTS, when=_secret_named),
    _rule("quoted key", rf"(?P<pre>(?P<q>[\"'])(?P<name>{_NAME})(?P=q)[ \t]{{0,4}}:[ \t]{{0,4}}(?P<vq>[\"'])?)"
                        rf"(?P<secret>{_KEY_VALUE})",
          _NAME_HINTS, when=_secret_named),
    _rule("escaped quoted key", rf"(?P<pre>(?P<q>\\{{1,3}}[\"'])(?P<name>{_NAME})(?P=q)[ \t]{{0,4}}:[ \t]{{0,4}}"
                                r"(?P<vq>(?P=q))?)(?P<secret>(?(vq)(?:(?!(?P=q))[^\n]){1,4096}|[^\s,}\]\\]{1,1024}))",
          _NAME_HINTS, when=_secret_named),
    _rule("name/value pair", r"(?P<pre>(?P<q>\\{0,3}[\"'])name(?P=q)[ \t]{0,4}:[ \t]{0,4}(?P=q)"
                             r"(?P<name>[\w.\-/]{1,128})(?P=q)[ \t]{0,4},[ \t]{0,4}(?P=q)value(?P=q)[ \t]{0,4}:"
                             r"[ \t]{0,4}(?P=q))(?P<secret>(?:(?!(?P=q))[^\n]){1,4096})", ("value",), when=_secret_named),
    _rule("docker config auth", r"(?P<pre>(?P<q>\\{0,3}[\"'])auth(?P=q)[ \t]{0,4}:[ \t]{0,4}(?P=q))"
                                r"(?P<secret>[A-Za-z0-9+/=]{8,4096})", ("auth",)),
    _rule("assignment", rf"(?P<pre>(?<![\w.\-])(?P<name>{_NAME})[ \t]{{0,4}}=[ \t]{{0,4}}(?P<vq>[\"'])?)"
                        rf"(?P<secret>(?(vq)(?:(?!(?P=vq))[^\n]){{1,2048}}|[^\s&,;\"'<>]{{1,2048}}))",
          _NAME_HINTS, when=_secret_named),
    _rule("YAML key", rf"(?m)^(?P<pre>[ \t]{{0,64}}(?:-[ \t]{{1,8}})?(?P<name>{_NAME}):[ \t]{{1,8}})"
                      r"(?P<secret>[^\s#][^\n]{0,4095})", _NAME_HINTS, when=_secret_named),
    _rule("key: value in text", rf"(?P<pre>(?<![\w.\-])(?P<name>{_NAME})[ \t]{{0,4}}:[ \t]{{1,4}})"
                                r"(?P<secret>[^\s\"'<>,;|]{6,2048})", _NAME_HINTS, when=lambda m: _looks_like_secret(m)),
    _rule("HTTP header", rf"(?P<pre>(?<![\w\-])(?P<name>{_HEADER_NAME})[\"']?[ \t]{{0,4}}[:=][ \t]{{0,4}}[\"']?)"
                         r"(?P<secret>[^\"'\r\n]{1,4096})",
          ("authorization", "cookie", "x-"), when=_not_trivial),
    _rule("bearer token", r"(?P<pre>(?<![\w\-])(?i:bearer)[ \t]{1,8})(?P<secret>[A-Za-z0-9\-._~+/]{8,8192}={0,4})",
          ("bearer",)),
    # openssl s_client prints TLS session secrets: TLS 1.3 "Resumption PSK:", TLS 1.2 "Master-Key:"
    _rule("TLS session secret", r"(?P<pre>(?<![\w\-])(?i:Resumption PSK|Master-Key|PSK):[ \t]{0,8})"
                                r"(?P<secret>[0-9A-Fa-f]{1,4096})(?![\w\-])", ("psk:", "master-key:")),
]

_KEY_END = re.compile(_PEM_END)
_REVERSED_BODY = re.compile(r"(?:n\\|r\\|[A-Za-z0-9+/=]|[\r\n]){0,65536}")
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{20,65536}={0,2}(?![A-Za-z0-9+/=_\-])")
_ALNUM = re.compile(r"[A-Za-z0-9]")


def _looks_like_key_body(m: re.Match) -> bool:
    """PEM-width base64 lines (upper, lower and digits: not a hex digest) not closed by a non-key END line."""
    body, after = m["secret"], m.string[m.end():m.end() + 80].lstrip()
    if after.startswith("-----END") and not _KEY_END.match(after):
        return False  # a certificate's (or a public key's) body
    return all(re.search(chars, body) for chars in ("[A-Z]", "[a-z]", "[0-9]"))


# ------------------------------------------------------------------ user patterns

def _check_bounded(regex: str, max_steps: int) -> str | None:
    """Why ``regex`` may not be linear-time (an unbounded or too deep repeat), or None."""
    from re import _constants as constants, _parser as parser  # the stdlib's own parse tree

    repeats = {constants.MAX_REPEAT, constants.MIN_REPEAT, getattr(constants, "POSSESSIVE_REPEAT", None)}

    def walk(items, depth_steps: int) -> str | None:
        for op, av in items:
            if op in repeats:
                low, high, sub = av
                if high == constants.MAXREPEAT:
                    return "unbounded repeat (*, + or {n,}): give a maximum, e.g. {1,64}"
                steps = depth_steps * max(high, 1)
                if steps > max_steps:
                    return f"nested repeats allow {steps} steps per position (at most {max_steps})"
                found = walk(sub, steps)
            elif op is constants.SUBPATTERN:
                found = walk(av[-1], depth_steps)
            elif op is constants.BRANCH:
                found = next((f for f in (walk(b, depth_steps) for b in av[1]) if f), None)
            elif op in (constants.ASSERT, constants.ASSERT_NOT):
                found = walk(av[1], depth_steps)
            elif op is getattr(constants, "ATOMIC_GROUP", None):
                found = walk(av, depth_steps)
            elif op is constants.GROUPREF_EXISTS:
                found = walk(av[1], depth_steps) or (walk(av[2], depth_steps) if av[2] else None)
            else:
                found = None
            if found:
                return found
        return None

    return walk(parser.parse(regex), 1)


def load_patterns(path: str | Path) -> list[Rule]:
    """The user rules of a patterns file (module docstring); ParameterError naming what is wrong."""
    import yaml

    from .errors import ParameterError

    def bad(reason: str) -> ParameterError:
        return ParameterError(ENV_PATTERNS, str(path), reason)

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise bad(f"cannot read the redaction patterns file: {str(exc).splitlines()[0]}") from None
    entries = data.get("patterns") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise bad("a redaction patterns file is a mapping with a list 'patterns' of {name, regex}")
    rules, names = [], set()
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("regex"), str) or not entry["name"].strip():
            raise bad(f"pattern {number} needs a string 'name' and a string 'regex'")
        name, regex = entry["name"].strip(), entry["regex"]
        if name in names:
            raise bad(f"pattern name {name!r} is used twice")
        try:
            compiled = re.compile(regex)
            why = _check_bounded(regex, _MAX_USER_STEPS)
        except re.error as exc:
            raise bad(f"pattern {name!r} is not a valid regex: {exc}") from None
        if why:
            raise bad(f"pattern {name!r} is not linear-time: {why}")
        names.add(name)
        rules.append(Rule(name, compiled, origin=f"patterns file {path}"))
    return rules


# ------------------------------------------------------------------ the redactor

class Redactor:
    """The rules, the switch and the counts of one process.

    ``counts`` maps a rule name to how many values it redacted; ``enabled`` is
    False only when redaction was turned off explicitly.
    """

    def __init__(self, *, enabled: bool = True, patterns_file: str | None = None):
        self.enabled = enabled
        self.patterns_file = patterns_file
        self.user_rules = load_patterns(patterns_file) if patterns_file else []
        self.library_rules = _library_rules()
        first_token_rule = next(i for i, r in enumerate(_TEXT_RULES) if r.name == "GitHub fine-grained token")
        self.rules: list[Rule] = (_TEXT_RULES[:first_token_rule] + self.library_rules
                                  + _TEXT_RULES[first_token_rule:] + self.user_rules)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._hints = sorted({h for rule in self.rules for h in rule.hints})

    # -- text ----------------------------------------------------------------------------------------

    def redact_text(self, text: str) -> str:
        """``text`` with every secret the rules know replaced by [REDACTED]."""
        if not self.enabled or not isinstance(text, str) or not text:
            return text
        return self.redact_many([text])[0]

    def redact_many(self, texts: list[str]) -> list[str]:
        """Each of ``texts`` redacted: one pass per rule over them all (joined by a separator)."""
        if not self.enabled:
            return list(texts)
        counts: Counter[str] = Counter()
        out = self._many(list(texts), counts, depth=0)
        self._merge(counts)
        return out

    def _merge(self, counts: Counter) -> None:
        if counts:
            with self._lock:
                self.counts.update(counts)

    def _many(self, texts: list[str], counts: Counter, depth: int) -> list[str]:
        """Each of ``texts`` through every rule, the orphan key bodies and (depth 0) base64.

        A rule with hints reads only the texts holding one of them (most
        strings of an object hold none: the costly name rules then read a few
        paths, not the whole object); the texts it reads are joined by the
        separator, so it costs one pass over them, and are redone one at a
        time when a match crossed the separator.
        """
        if not texts:
            return []
        parts = list(texts)
        hinted = self._hinted(parts)
        everything = range(len(parts))
        for rule in self.rules:
            if rule.hints:
                chosen = sorted(set().union(*(hinted.get(h, ()) for h in rule.hints)))
                if chosen:
                    self._sub(rule, parts, chosen, counts)
            else:
                self._sub(rule, parts, everything, counts)
        return self._batched(parts, counts, lambda text, c: self._finish(text, c, depth))

    def _hinted(self, parts: list[str]) -> dict[str, list[int]]:
        """hint -> the indexes of the parts whose lowercase text contains it (a str.find per part found)."""
        joined = _SEPARATOR.join(parts)
        lowered = joined.lower()
        if len(lowered) == len(joined):
            lengths = [len(p) for p in parts]
        else:  # lower() changed a length (e.g. "İ"): the parts' offsets are their lowercase lengths
            lengths = [len(p.lower()) for p in parts]
        starts, at = [], 0
        for length in lengths:
            starts.append(at)
            at += length + len(_SEPARATOR)
        found: dict[str, list[int]] = {}
        for hint in self._hints:
            i = lowered.find(hint)
            while i != -1:
                index = bisect.bisect_right(starts, i) - 1
                found.setdefault(hint, []).append(index)
                i = lowered.find(hint, starts[index + 1]) if index + 1 < len(starts) else -1  # the next part on
        return found

    @staticmethod
    def _batched(parts: list[str], counts: Counter, apply: Callable[[str, Counter], str],
                 indexes: Iterable[int] | None = None) -> list[str]:
        """``apply`` to the parts at ``indexes`` (all by default) joined by the separator, in place; one
        part at a time when a part holds the separator or the result does not split back into as many."""
        chosen = range(len(parts)) if indexes is None else list(indexes)
        if len(chosen) == 1:
            parts[chosen[0]] = apply(parts[chosen[0]], counts)
            return parts
        joined = _SEPARATOR.join(parts[i] for i in chosen)
        if joined.count(_SEPARATOR) == len(chosen) - 1:
            batch_counts: Counter[str] = Counter()
            out = apply(joined, batch_counts).split(_SEPARATOR)
            if len(out) == len(chosen):
                counts.update(batch_counts)
                for i, text in zip(chosen, out):
                    parts[i] = text
                return parts
        for i in chosen:  # a match crossed the separator: one by one
            parts[i] = apply(parts[i], counts)
        return parts

    def _sub(self, rule: Rule, parts: list[str], indexes: Iterable[int], counts: Counter) -> None:
        """One rule over the parts at ``indexes``, in place."""
        def apply(text: str, c: Counter) -> str:
            return rule.pattern.sub(lambda m: self._replace(rule, m, c), text)
        self._batched(parts, counts, apply, indexes)

    def _finish(self, text: str, counts: Counter, depth: int) -> str:
        text = self._orphan_key_bodies(text, counts)
        if depth == 0:
            text = self._base64(text, counts)
        return text

    @staticmethod
    def _replace(rule: Rule, m: re.Match, counts: Counter) -> str:
        has_group = "secret" in rule.pattern.groupindex and m.group("secret") is not None
        secret = m.group("secret") if has_group else m.group(0)
        if not _ALNUM.search(secret.replace(REDACTED, "")):
            return m.group(0)  # already redacted
        if rule.when is not None and not rule.when(m):
            return m.group(0)
        counts[rule.name] += 1
        if not has_group:
            return REDACTED
        start, end = m.span("secret")
        return m.string[m.start():start] + REDACTED + m.string[end:m.end()]

    def _orphan_key_bodies(self, text: str, counts: Counter) -> str:
        """Base64 lines right before an END line whose BEGIN is not in the text (a tail cut it off)."""
        if "-----END" not in text:
            return text
        out, done = [], 0
        for m in _KEY_END.finditer(text):
            window = text[max(done, m.start() - 65536):m.start()]
            run_start = len(window) - _REVERSED_BODY.match(window[::-1]).end()
            lines = re.split(r"\r?\n|\\r?\\n", window[run_start:])
            if run_start > 0 and window[run_start - 1] not in "\n\"'":
                lines = lines[1:]  # the run starts mid-line: that piece is not a body line
            while lines and not lines[-1]:
                lines.pop()
            body = lines[-1:]
            for line in reversed(lines[:-1]):  # above the last line: full-width lines only
                if not 16 <= len(line) <= 128:
                    break
                body.append(line)
            if sum(len(line) for line in body) < 32:
                continue
            start = m.start() - len(window) + window.rindex(body[-1], run_start)
            out += [text[done:start], REDACTED]
            done = m.end()
            counts["private key body (BEGIN cut off)"] += 1
        return "".join(out) + text[done:] if out else text

    def _base64(self, text: str, counts: Counter) -> str:
        """Base64 runs that decode to text some rule would redact."""
        runs, decoded = [], []
        for m in _BASE64_RUN.finditer(text):
            plain = _decode_base64(m.group(0))
            if plain is not None:
                runs.append(m.span())
                decoded.append(plain)
        if not runs:
            return text
        inner: Counter[str] = Counter()
        cleaned = self._many(decoded, inner, depth=1)
        out, done = [], 0
        for (start, end), before, after in zip(runs, decoded, cleaned):
            if before != after:
                out += [text[done:start], REDACTED]
                done = end
                counts["base64 of a secret"] += 1
        return "".join(out) + text[done:] if out else text

    # -- structures ----------------------------------------------------------------------------------

    def redact_argv(self, argv: list[str], counts: Counter | None = None) -> list[str]:
        """An argument vector: ``--token V`` and ``mysql -p V`` also when flag and value are two items."""
        own = counts is None
        counts = Counter() if own else counts
        argv = [str(a) for a in argv]
        joined = " ".join(argv)
        lowered = joined.lower()
        spans = []
        for rule in _ARGV_RULES:
            if rule.hints and not any(h in lowered for h in rule.hints):
                continue
            for m in rule.pattern.finditer(joined):
                if m["secret"] and (rule.when is None or rule.when(m)) and m["secret"] != REDACTED:
                    spans.append(m.span("secret"))
                    counts[rule.name] += 1
        out, offset = [], 0
        for item in argv:
            start, end = offset, offset + len(item)
            cut = sorted((max(a, start) - start, min(b, end) - start) for a, b in spans if a < end and b > start)
            for a, b in reversed(cut):
                item = item[:a] + REDACTED + item[b:]
            out.append(item)
            offset = end + 1
        if own:
            self._merge(counts)
        return out

    def redact_object(self, obj: Any) -> Any:
        """A redacted deep copy of a JSON-like tree (module docstring of :func:`redact_object`)."""
        if not self.enabled:
            return copy.deepcopy(obj)
        counts: Counter[str] = Counter()
        slots: list[tuple[Any, Any]] = []
        strings: list[str] = []
        root = {"": obj}
        copied = self._walk(root, counts, slots, strings)
        for (parent, key), text in zip(slots, self._many(strings, counts, depth=0)):
            parent[key] = text
        self._merge(counts)
        return copied[""]

    def _walk(self, node: Any, counts: Counter, slots: list, strings: list) -> Any:
        """A copy of ``node``: secret-named values replaced, argv lists redacted, every other string's
        place recorded in ``slots`` (its text in ``strings``) for the one text pass."""
        if isinstance(node, dict):
            out = {}
            pair_name = node.get("name") if isinstance(node.get("value"), str) else None
            argv_keys = [k for k in ("command", "args") if _is_str_list(node.get(k))] \
                if "command" in node or "args" in node else ()
            for key, value in node.items():
                if key == _LAST_APPLIED:
                    counts["last-applied-configuration annotation"] += 1
                    continue
                if isinstance(value, str):
                    if key == "value" and isinstance(pair_name, str) and is_secret_name(pair_name) and value:
                        out[key] = self._named(value, counts, "secret-named env var or header")
                    elif value != "" and value != REDACTED and _secret_key(key):
                        out[key] = self._named(value, counts, "secret-named field")
                    else:
                        out[key] = value
                        slots.append((out, key))
                        strings.append(value)
                elif isinstance(value, (dict, list, tuple)):
                    # argv lists: below, command + args as one argument vector
                    out[key] = None if key in argv_keys else self._walk(value, counts, slots, strings)
                elif isinstance(value, (int, float)) and not isinstance(value, bool) and _secret_key(key):
                    out[key] = self._named(value, counts, "secret-named field")
                else:
                    out[key] = value
            if argv_keys:
                argv = [a for k in argv_keys for a in node[k]]
                cleaned = self.redact_argv(argv, counts)
                at = 0
                for key in argv_keys:
                    n = len(node[key])
                    out[key] = cleaned[at:at + n]
                    for i in range(n):
                        slots.append((out[key], i))
                        strings.append(out[key][i])
                    at += n
            return out
        if isinstance(node, list):
            if len(node) > 1 and _is_str_list(node):
                out = self.redact_argv(node, counts)
                for i, item in enumerate(out):
                    slots.append((out, i))
                    strings.append(item)
                return out
            out = [None] * len(node)
            for i, value in enumerate(node):
                if isinstance(value, str):
                    out[i] = value
                    slots.append((out, i))
                    strings.append(value)
                else:
                    out[i] = self._walk(value, counts, slots, strings)
            return out
        if isinstance(node, tuple):
            return tuple(self._walk(list(node), counts, slots, strings))
        return node

    @staticmethod
    def _named(value: Any, counts: Counter, rule: str) -> Any:
        if value == REDACTED:
            return value
        counts[rule] += 1
        return REDACTED


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _decode_base64(run: str) -> str | None:
    """The UTF-8 text a base64 run encodes, or None (binary, not base64)."""
    run = run.rstrip("=")
    if len(run) % 4 == 1:
        return None
    padded = run + "=" * (-len(run) % 4)
    try:
        if "-" in run or "_" in run:
            if "+" in run or "/" in run:
                return None
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    printable = sum(c.isprintable() or c in "\n\r\t" for c in text)
    return text if printable >= 0.95 * len(text) else None


# ------------------------------------------------------------------ the process's redactor

_STATE: dict[str, Any] = {}
_STATE_LOCK = threading.Lock()


def _settings() -> tuple[bool, str | None]:
    enabled = os.environ.get(ENV_DISABLE, "").strip().lower() not in ("1", "true", "yes", "on")
    return enabled, (os.environ.get(ENV_PATTERNS) or "").strip() or None


def default_redactor() -> Redactor:
    """The redactor the environment asks for (K8SRUN_NO_REDACT, K8SRUN_REDACT_PATTERNS), made once per setting.

    Raises ParameterError (naming K8SRUN_REDACT_PATTERNS) when the patterns file is invalid.
    """
    settings = _settings()
    found = _STATE.get("redactor")
    if found is not None and _STATE.get("settings") == settings:
        return found
    with _STATE_LOCK:
        if _STATE.get("settings") != settings or "redactor" not in _STATE:
            redactor = Redactor(enabled=settings[0], patterns_file=settings[1])
            if "redactor" in _STATE:  # keep the counts across a change of settings
                redactor.counts.update(_STATE["redactor"].counts)
            _STATE.update(redactor=redactor, settings=settings)
        return _STATE["redactor"]


def redact_text(text: str) -> str:
    """``text`` with tokens, passwords, private keys and credentials replaced by [REDACTED]."""
    return default_redactor().redact_text(text)


def redact_object(obj: Any) -> Any:
    """A redacted deep copy of any Kubernetes object (any kind, namespaced or cluster-scoped) or JSON tree.

    Every string goes through :func:`redact_text`; values whose key is a secret
    name (``password``, ``api-token``, an annotation ``example.com/db-password``)
    and ``{"name": <secret name>, "value": V}`` pairs (env vars, probe
    httpHeaders) become [REDACTED]; ``command`` + ``args`` (containers, exec
    probes, lifecycle hooks) and every other list of strings are read as one
    argument vector, so ``["--token", V]`` and ``["mysql", "-p", V]`` lose V;
    the ``kubectl.kubernetes.io/last-applied-configuration`` annotation is
    dropped. Linear in the object's size.
    """
    return default_redactor().redact_object(obj)


def redact_argv(argv: list[str]) -> list[str]:
    """An argument vector with flag values, ``mysql -p V`` and secrets in items redacted."""
    redactor = default_redactor()
    if not redactor.enabled:
        return list(argv)
    return redactor.redact_many(redactor.redact_argv(list(argv)))


def blank_configmap(configmap: dict) -> dict:
    """A ConfigMap with its keys kept and every value (and the last-applied copy) blanked."""
    blanked = {**configmap, "metadata": dict(configmap.get("metadata") or {})}
    for field in ("data", "binaryData"):
        if configmap.get(field):
            blanked[field] = {key: "" for key in configmap[field]}
    annotations = dict(blanked["metadata"].get("annotations") or {})
    if annotations.pop(_LAST_APPLIED, None) is not None:
        blanked["metadata"]["annotations"] = annotations
    return blanked


def redact_bundle_object(resource: str, obj: dict) -> dict:
    """What a bundle (capture) or the snapshot API (serve) may hold of one object of ``resource``.

    ConfigMaps and Secrets keep their keys only (whatever the switch says:
    it is the bundle format); everything goes through :func:`redact_object`.
    """
    if resource in ("configmaps", "secrets"):
        obj = blank_configmap(obj)
        obj.pop("stringData", None)
    return redact_object(obj)


_TAG = re.compile(r"<[^<>]{0,16384}>")


def redact_html(markup: str) -> str:
    """HTML with secrets redacted in its text (read unescaped, so ``p&amp;ss`` is ``p&ss``) and tags."""
    redactor = default_redactor()
    if not redactor.enabled or not markup:
        return markup
    pieces, is_text, done = [], [], 0
    for m in _TAG.finditer(markup):
        if m.start() > done:
            pieces.append(markup[done:m.start()])
            is_text.append(True)
        pieces.append(m.group(0))
        is_text.append(False)
        done = m.end()
    if done < len(markup):
        pieces.append(markup[done:])
        is_text.append(True)
    readable = [html.unescape(p) if text else p for p, text in zip(pieces, is_text)]
    cleaned = redactor.redact_many(readable)
    return "".join(p if before == after else (html.escape(after, quote=False) if text else after)
                   for p, text, before, after in zip(pieces, is_text, readable, cleaned))


def redact_display(bundle: dict) -> dict:
    """A notebook display bundle: text/html through :func:`redact_html`, every other payload through
    :func:`redact_object` (text/plain, and the findings / unavailable JSON rows, recursively)."""
    return {mime: redact_html(value) if mime == "text/html" and isinstance(value, str) else redact_object(value)
            for mime, value in bundle.items()}


def redact_notebook(notebook):
    """Every output of an executed notebook (streams, displays, errors) and its injected parameters, in place."""
    for cell in notebook.get("cells", []):
        if "injected-parameters" in (cell.get("metadata", {}).get("tags") or []):
            cell["source"] = redact_text(cell.get("source", ""))
        for output in cell.get("outputs", []) or []:
            if "text" in output:
                output["text"] = redact_text(output["text"])
            if "data" in output:
                output["data"] = type(output["data"])(redact_display(dict(output["data"])))
            if "evalue" in output:
                output["evalue"] = redact_text(output["evalue"])
            if "traceback" in output:
                output["traceback"] = [redact_text(line) for line in output["traceback"]]
    return notebook


def redact_command_result(result):
    """A node command result (a dataclass: stdout, stderr, error, argv) with every text redacted."""
    redactor = default_redactor()
    if not redactor.enabled:
        return result
    stdout, stderr, error = redactor.redact_many([result.stdout or "", result.stderr or "", result.error or ""])
    return dataclasses.replace(result, stdout=stdout, stderr=stderr, error=error if result.error is not None else None,
                               argv=tuple(redact_argv(list(result.argv))))


def redaction_enabled() -> bool:
    """False only when redaction was turned off explicitly (K8SRUN_NO_REDACT=1)."""
    return _settings()[0]


def redaction_counts() -> dict[str, int]:
    """Values redacted so far in this process, per rule."""
    return dict(default_redactor().counts)


def redaction_status() -> str:
    """One line for a report header: on (and with which extra patterns) or OFF."""
    enabled, patterns = _settings()
    if not enabled:
        return (f"OFF ({ENV_DISABLE} is set): tokens, passwords and keys may appear in this output")
    extra = f" + patterns from {patterns}" if patterns else ""
    return f"on (built-in rules{extra}; {ENV_DISABLE}=1 turns it off)"


__all__ = ["REDACTED", "ENV_DISABLE", "ENV_PATTERNS", "Redactor", "Rule", "blank_configmap", "default_redactor",
           "is_secret_name", "load_patterns", "redact_argv", "redact_bundle_object", "redact_command_result",
           "redact_display", "redact_html", "redact_notebook", "redact_object", "redact_text", "redaction_counts",
           "redaction_enabled", "redaction_status"]
