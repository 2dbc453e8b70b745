"""Made-up but plausible data for the seed: Markdown bodies, authors, article titles."""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

WORDS = """the of and to a in is that it for was on are as with this they be at have not but
from or by one had what all were we when your can said there use an each which she do how their if
will up other about out many then them these so some her would make like him into time has look two
more write go see number no way could people my than first water been call who its now find long down
day did get come made may part think really agree point article author actually though however
because city council budget vote plan school road bridge rail train bus housing rent price market
tax money year week month today yesterday tomorrow local news story report reader editor source data
study result claim fact question answer problem issue policy change law court judge police safety
health doctor hospital patient energy power climate weather summer winter rain heat river park tree
garden food coffee shop street traffic bike car parking noise music concert game team season coach
player goal win lose match fan ticket stadium history museum library book film theatre festival
""".split()
FIRST = """Anna Ben Clara David Elif Felix Greta Hugo Ines Jonas Kira Lukas Mara Nils Olga Paul Quinn
Rosa Sami Tara Uwe Vera Wim Xenia Yusuf Zoe Ahmed Bea Carlos Dana Emil Fatima Georg Hanna Ivan
Julia Karl Lea Milan Nora Oskar Petra Rafael Sofia Tim Ute Viktor Wanda Yara""".split()
LAST = """Adler Berg Costa Dietrich Engel Fischer Garcia Hahn Ivanova Jansen Klein Lang Meyer
Novak Ortiz Peters Quast Richter Schmidt Tanaka Ullmann Vogel Weber Yilmaz Zimmermann Brandt
Kowalski Lindqvist Moreau Nguyen Okafor Rossi Silva Horvat""".split()
HANDLES = "nightowl river_fan oldtimer commuter42 just_saying quietreader bikelane ratepayer".split()


@dataclass(frozen=True)
class Body:
    """A comment's source text, its sanitized HTML and the hash the spam filter compares."""

    text: str
    html: str
    digest: str


def _sentence(rng: random.Random, low: int = 5, high: int = 22) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice(".....?!")


def _paragraph(rng: random.Random) -> str:
    sentences = [_sentence(rng) for _ in range(rng.choice((1, 1, 2, 2, 3, 4)))]
    for i, s in enumerate(sentences):
        words = s.split(" ")
        k = rng.randrange(len(words))
        r = rng.random()
        if r < 0.10:
            words[k] = f"*{words[k].strip('.?!')}*"
        elif r < 0.15:
            words[k] = f"**{words[k].strip('.?!')}**"
        elif r < 0.22:
            words[k] = f"[{words[k].strip('.?!')}](https://news.example/{rng.randint(1, 99999)})"
        elif r < 0.25:
            words[k] = f"https://www.example.org/report/{rng.randint(1, 9999)}"
        elif r < 0.29:
            words[k] = f"`{words[k].strip('.?!')}`"
        sentences[i] = " ".join(words)
    return " ".join(sentences)


def body_text(rng: random.Random) -> str:
    """A comment as readers write them: mostly a short paragraph or two, sometimes much more."""
    n = rng.choices((1, 2, 3, 4, 6), weights=(45, 30, 13, 8, 4))[0]
    blocks = [_paragraph(rng) for _ in range(n)]
    r = rng.random()
    if r < 0.10:
        blocks.insert(0, "> " + _sentence(rng))
    elif r < 0.14:
        blocks.append("\n".join(f"- {_sentence(rng, 3, 9)}" for _ in range(rng.randint(2, 5))))
    elif r < 0.16:
        blocks.append("```\n" + "\n".join(_sentence(rng, 2, 6) for _ in range(3)) + "\n```")
    return "\n\n".join(blocks)


def bodies(rng: random.Random, count: int) -> list[Body]:
    """A pool of bodies rendered once with the app's own sanitizer."""
    from comments.sanitize import render
    from comments.services.authors import text_hash

    pool = []
    for _ in range(count):
        source = body_text(rng)
        pool.append(Body(source, render(source), text_hash(source)))
    return pool


def make_name(rng: random.Random) -> str:
    """A reader's display name."""
    if rng.random() < 0.15:
        return rng.choice(HANDLES) + str(rng.randint(1, 999))
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def articles(rng: random.Random, count: int, now: datetime) -> list[tuple[str, str, datetime]]:
    """(key, title, published) for `count` articles over the last three years, keys unique."""
    out = []
    for i in range(count):
        published = now - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400))
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 8))]
        slug = "-".join(words[:5])
        out.append((f"/{published:%Y/%m}/{slug}-{i}/", " ".join(words).capitalize(), published))
    return out


class People:
    """Authors: names, emails, websites, reader keys and addresses, reused as on a real site."""

    def __init__(self, rng: random.Random, count: int = 20000) -> None:
        self.rng = rng
        self.authors = []
        for i in range(count):
            name = make_name(rng)
            email = f"{name.lower().replace(' ', '.')}{i}@mail.example" if rng.random() < 0.65 \
                else None
            website = f"https://{name.split()[0].lower()}{i}.blog.example/" \
                if rng.random() < 0.08 else None
            reader = hashlib.sha256(f"reader-{i}".encode()).hexdigest() \
                if rng.random() < 0.7 else None
            ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}." \
                 f"{rng.randint(1, 254)}"
            self.authors.append((name, email, website, reader, ip))

    def pick(self) -> tuple[str, str | None, str | None, str | None, str]:
        """An author, the active ones more often."""
        return self.authors[min(len(self.authors) - 1, int(self.rng.expovariate(1 / 2500)))]
