"""Benchmark: Email.parse against Python's own email package, on the hostile corpus and on pathological headers.

The figures that the tests no longer assert (tests count work instead of timing it). Measured in one run, best of
BENCH_ROUNDS (default 3) per case, after one untimed pass:
- each message of the corpus (tests/corpus, and the optional extra corpus beside the clone when there): the time of
  Email.parse, that of the email package (BytesParser with the default policy, then what a reader needs: the
  headers, every part's content), and their ratio; "raised X" where the email package raises;
- each pathological header value of tests/spooler/sessions/test_email_parse.py at n and 8n: the time of Email.parse
  and the growth (linear is about 8, quadratic 64);
- one small message, parsed 2,000 times: microseconds per message, ours and the email package's.

    .venv/bin/python bench/parse.py
"""
import email.policy
import os
import pathlib
import statistics
import sys
from email.parser import BytesParser

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from bench import timing  # noqa: E402
from spooler.sessions import Email  # noqa: E402
from tests import corpus  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
JUNK = {  # as in test_pathological_header_values_stay_linear
    "spaces": b" " * 99_000, "words": b"a " * 49_000, "quotes": b'"' * 99_000, "parens": b"(" * 99_000,
    "commas": b"a," * 49_000, "params": b'a="' * 33_000, "encoded words": b"=?utf-8?q?a?= " * 7_000,
    "backslashes": b"\\" * 99_000,
}


def pathological(junk):
    fields = b"".join(name + b": x" + junk + b"\r\n" for name in (b"From", b"To", b"Subject", b"References"))
    return fields + b"Content-Type: text/plain; x" + junk + b"\r\n\r\nbody"


def best(fn, rounds=ROUNDS):
    return timing.best(fn, rounds)


def python_email(raw):
    """What reading the message costs with the email package: parse, the headers shown, each part's content."""
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        str(message.get(name, ""))
    for part in message.walk():
        if not part.is_multipart():
            part.get_content()


def ms(seconds):
    return f"{seconds * 1000:9.2f} ms"


def main():
    cases = corpus.all_mail()
    print(f"corpus: {len(cases)} messages ({len(corpus.eml_files())} malformed, {len(corpus.eml_html_files())} html); "
          f"best of {ROUNDS}")
    ours_total, ratios = 0.0, []
    for case in cases:
        raw = case.data
        ours = best(lambda: Email.parse(raw))
        ours_total += ours
        try:
            theirs = best(lambda: python_email(raw))
        except Exception as exc:  # noqa: BLE001 - the point: it raises on some of these
            print(f"{case.name:58} Email.parse {ms(ours)}  email package raised {type(exc).__name__}")
            continue
        ratios.append(theirs / ours)
        print(f"{case.name:58} Email.parse {ms(ours)}  email package {ms(theirs)}  ({theirs / ours:6.1f} x ours)")
    print(f"corpus total: Email.parse {ms(ours_total)}; email package / Email.parse: median "
          f"{statistics.median(ratios):.1f} x, min {min(ratios):.1f} x, max {max(ratios):.1f} x")

    for name, junk in JUNK.items():
        small, big = pathological(junk[:len(junk) // 8]), pathological(junk)
        t_small, t_big = best(lambda: Email.parse(small)), best(lambda: Email.parse(big))
        print(f"pathological header, {name:13} {len(small):7,} B {ms(t_small)}   {len(big):7,} B {ms(t_big)}   "
              f"growth {t_big / t_small:5.1f} (linear ~8, quadratic 64)")

    small = Email(sender="a@example.test", to=["b@example.test"], subject="s", text="hello\n" * 10).to_bytes()
    count = 2000
    ours = best(lambda: [Email.parse(small) for _ in range(count)]) / count
    theirs = best(lambda: [python_email(small) for _ in range(count)]) / count
    print(f"small message ({len(small)} B): Email.parse {ours * 1e6:.1f} us, email package {theirs * 1e6:.1f} us "
          f"({theirs / ours:.1f} x ours)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
