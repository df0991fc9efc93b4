"""Text for LaTeX: prose and typewriter strings escaped to pure ASCII, with places where a line may break.

Every text field of the derivation document goes through :func:`escape_text` (prose) or :func:`escape_tt`
(typewriter transcriptions of the paper). Both produce pure ASCII: Greek letters and mathematical symbols from
the paper's text become LaTeX commands, and any other non-ASCII character is reduced to its ASCII base letter
or written as ``[U+XXXX]``, so pdflatex never meets a character it cannot typeset.

>>> escape_text("beta_1 = 50% & more")
'beta\\\\_1 = 50\\\\% \\\\& more'
>>> escape_text("β") == r"\\texorpdfstring{\\ensuremath{\\beta}}{beta}"
True
"""
from __future__ import annotations

import unicodedata

#: non-ASCII characters typeset as mathematics: character -> (LaTeX math, ASCII for PDF bookmarks)
MATH_CHARACTERS = {
    "α": (r"\alpha", "alpha"), "β": (r"\beta", "beta"), "γ": (r"\gamma", "gamma"),
    "δ": (r"\delta", "delta"), "ε": (r"\varepsilon", "epsilon"), "ϵ": (r"\epsilon", "epsilon"),
    "ζ": (r"\zeta", "zeta"), "η": (r"\eta", "eta"), "θ": (r"\theta", "theta"),
    "ϑ": (r"\vartheta", "theta"), "ι": (r"\iota", "iota"), "κ": (r"\kappa", "kappa"),
    "λ": (r"\lambda", "lambda"), "µ": (r"\mu", "mu"), "μ": (r"\mu", "mu"), "ν": (r"\nu", "nu"),
    "ξ": (r"\xi", "xi"), "π": (r"\pi", "pi"), "ρ": (r"\rho", "rho"), "σ": (r"\sigma", "sigma"),
    "ς": (r"\varsigma", "sigma"), "τ": (r"\tau", "tau"), "υ": (r"\upsilon", "upsilon"),
    "φ": (r"\phi", "phi"), "ϕ": (r"\phi", "phi"), "χ": (r"\chi", "chi"), "ψ": (r"\psi", "psi"),
    "ω": (r"\omega", "omega"), "Γ": (r"\Gamma", "Gamma"), "Δ": (r"\Delta", "Delta"),
    "Θ": (r"\Theta", "Theta"), "Λ": (r"\Lambda", "Lambda"), "Ξ": (r"\Xi", "Xi"),
    "Π": (r"\Pi", "Pi"), "Σ": (r"\Sigma", "Sigma"), "Υ": (r"\Upsilon", "Upsilon"),
    "Φ": (r"\Phi", "Phi"), "Ψ": (r"\Psi", "Psi"), "Ω": (r"\Omega", "Omega"),
    "∂": (r"\partial", "d"), "∼": (r"\sim", "~"), "∈": (r"\in", " in "), "∉": (r"\notin", " not in "),
    "≡": (r"\equiv", "=="), "‖": (r"\Vert", "||"), "∣": (r"\mid", "|"), "×": (r"\times", "x"),
    "≤": (r"\leq", "<="), "≥": (r"\geq", ">="), "≠": (r"\neq", "!="), "≈": (r"\approx", "~"),
    "∑": (r"\sum", "sum"), "∏": (r"\prod", "prod"), "∫": (r"\int", "int"), "→": (r"\to", "->"),
    "←": (r"\leftarrow", "<-"), "⇒": (r"\Rightarrow", "=>"), "⇔": (r"\Leftrightarrow", "<=>"),
    "↦": (r"\mapsto", "|->"), "∞": (r"\infty", "inf"), "√": (r"\surd", "sqrt"), "·": (r"\cdot", "."),
    "⋅": (r"\cdot", "."), "±": (r"\pm", "+-"), "∓": (r"\mp", "-+"), "∝": (r"\propto", "~"),
    "⊤": (r"\top", "T"), "′": (r"\prime", "'"), "∇": (r"\nabla", "nabla"), "∀": (r"\forall", "for all"),
    "∃": (r"\exists", "exists"), "⊗": (r"\otimes", "(x)"), "⊙": (r"\odot", "(.)"), "∘": (r"\circ", "o"),
    "∩": (r"\cap", "cap"), "∪": (r"\cup", "cup"), "⊂": (r"\subset", "subset"), "⊆": (r"\subseteq", "subseteq"),
    "∅": (r"\emptyset", "{}"), "ℓ": (r"\ell", "l"), "ℝ": (r"\mathbb{R}", "R"), "∥": (r"\parallel", "||"),
    "⟨": (r"\langle", "<"), "⟩": (r"\rangle", ">"), "°": (r"^{\circ}", "deg"), "ᵀ": (r"^{T}", "^T"),
    "²": (r"^{2}", "^2"), "³": (r"^{3}", "^3"), "¹": (r"^{1}", "^1"), "⁰": (r"^{0}", "^0"),
    "⁻": (r"^{-}", "^-"), "⁺": (r"^{+}", "^+"), "½": (r"\tfrac{1}{2}", "1/2"),
    "<": ("<", "<"), ">": (">", ">"), "|": ("|", "|"),
}
#: non-ASCII characters with a plain ASCII equivalent (used in both prose and typewriter)
ASCII_EQUIVALENTS = {
    "−": "-", "‐": "-", "‑": "-", "‒": "-", "∗": "*", "’": "'", "‘": "`", "“": "``", "”": "''",
    "„": ",,", "…": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "", "\ufeff": "",
    "ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl",
}
#: dashes: en and em dash in prose, a plain hyphen in typewriter text
DASHES = {"–": ("--", "-"), "—": ("---", "--")}
#: ASCII characters special to TeX, in prose (roman font, OT1 encoding)
TEXT_SPECIALS = {
    "\\": r"\ensuremath{\backslash}", "{": r"\{", "}": r"\}", "_": r"\_", "%": r"\%", "&": r"\&",
    "#": r"\#", "$": r"\ensuremath{\$}", "^": r"\ensuremath{^\wedge}", "~": r"\ensuremath{\sim}", '"': "''",
}
#: ASCII characters special to TeX, in typewriter text: cmtt holds every ASCII glyph in its own slot
TT_SPECIALS = {c: rf"{{\char{ord(c)}}}" for c in "\\{}_%&#$^~"}
#: a line may break after these characters in typewriter text and long tokens
BREAK_AFTER = set(",;=+*/)]")
#: in typewriter text (keys such as ``tie.structure.01.++``) also after dots and hyphens
TT_BREAK_AFTER = BREAK_AFTER | set(".-")
#: curly quotes become straight ones in typewriter text
TT_QUOTES = {"‘": "'", "’": "'", "“": '"', "”": '"', "„": '"'}
SUBSCRIPT_DIGITS = {chr(0x2080 + d): str(d) for d in range(10)}
SUPERSCRIPT_DIGITS = {"⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9"}


def _math(latex: str, ascii_text: str) -> str:
    return rf"\texorpdfstring{{\ensuremath{{{latex}}}}}{{{ascii_text}}}"


def _escape_char(ch: str, typewriter: bool) -> str:
    """One character as ASCII LaTeX (prose or typewriter)."""
    specials = TT_SPECIALS if typewriter else TEXT_SPECIALS
    if ch in specials:
        return specials[ch]
    if ch in "<>|":
        return ch if typewriter else _math(*MATH_CHARACTERS[ch])
    if ch in ("\n", "\r", "\t", "\f", "\v"):
        return " "
    if " " <= ch <= "~":
        return ch
    if ch in DASHES:
        return DASHES[ch][1 if typewriter else 0]
    if typewriter and ch in TT_QUOTES:
        return TT_QUOTES[ch]
    if ch in ASCII_EQUIVALENTS:
        return "".join(_escape_char(c, typewriter) for c in ASCII_EQUIVALENTS[ch])
    if ch in MATH_CHARACTERS:
        return _math(*MATH_CHARACTERS[ch])
    if ch in SUBSCRIPT_DIGITS:
        return _math("_{%s}" % SUBSCRIPT_DIGITS[ch], SUBSCRIPT_DIGITS[ch])
    if ch in SUPERSCRIPT_DIGITS:
        return _math("^{%s}" % SUPERSCRIPT_DIGITS[ch], SUPERSCRIPT_DIGITS[ch])
    if unicodedata.category(ch).startswith("C"):
        return ""  # control and format characters carry no text
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if " " <= c <= "~")
    if base:
        return "".join(_escape_char(c, typewriter) for c in base)
    return f"[U+{ord(ch):04X}]"


def escape_text(text: object, breakable: bool = False) -> str:
    """Prose for LaTeX: TeX specials escaped, newlines folded, non-ASCII mapped to ASCII LaTeX.

    ``breakable`` allows line breaks after ``, ; = + * / ) ]`` so that long formula-like tokens
    in body text do not stick out of the margin (not for section titles: PDF bookmarks).

    >>> escape_text("a_b {c} 100%")
    'a\\\\_b \\\\{c\\\\} 100\\\\%'
    >>> escape_text("(a+b)", breakable=True)
    '(a+\\\\allowbreak{}b)\\\\allowbreak{}'
    """
    return _escape(text, typewriter=False, breaks=BREAK_AFTER if breakable else frozenset())


def _escape(text: object, typewriter: bool, breaks) -> str:
    pieces = []
    for ch in str(text):
        pieces.append(_escape_char(ch, typewriter))
        if ch in breaks:
            pieces.append(r"\allowbreak{}")
    return "".join(pieces)


def escape_paragraphs(text: object) -> str:
    """Like :func:`escape_text`, but blank lines stay paragraph breaks (for body text, not arguments)."""
    paragraphs = [p for p in _split_paragraphs(str(text)) if p.strip()]
    return "\n\n".join(escape_text(" ".join(p.split()), breakable=True) for p in paragraphs)


def _split_paragraphs(text: str) -> list[str]:
    out, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out


def escape_tt(text: object) -> str:
    """One line of typewriter text: specials as ``{\\char N}``, line breaks allowed after punctuation.

    >>> escape_tt("a_b=c")
    'a{\\\\char95}b=\\\\allowbreak{}c'
    """
    return _escape(text, typewriter=True, breaks=TT_BREAK_AFTER)


def tt_block(text: object) -> str:
    """A multi-line transcription in typewriter type, its line structure kept."""
    lines = str(text).splitlines() or [""]
    body = "\\\\\\relax\n".join(escape_tt(line) if line.strip() else r"\mbox{}" for line in lines)
    return "\\begin{transcription}\n" + body + "\n\\end{transcription}"
