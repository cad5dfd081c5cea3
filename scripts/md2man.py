#!/usr/bin/env python3
"""Turns vsw's Markdown (the subset its docs use) into a man page.

  md2man.py INPUT.md OUTPUT NAME SECTION [TITLE]

Used by the build for vsw.conf.db(5) (from schema/vswitch.md, so the
reference and the page never disagree), vswctl(8) and vswitchd(8) (from
docs/man/*.md).  Understood: '#' (the page's title line, dropped: the
.TH and NAME come from the arguments), '##' sections, '###' subsections,
paragraphs, '-' lists (with indented continuation lines), '|' tables
(rendered with tbl), fenced code blocks, `code`, **bold**, *emphasis*
and [text](link)."""

import re
import sys


def escape(text):
    """Roff-escapes plain text: backslashes, hyphens as minus signs, and
    characters beyond ASCII as groff's \\[uXXXX]."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c)
                   for c in text)


def inline(text):
    """Markdown inline markup to roff fonts."""
    out = []
    pos = 0
    pattern = re.compile(r"`([^`]*)`|\*\*([^*]+)\*\*|\*([^*]+)\*"
                         r"|\[([^\]]+)\]\([^)]*\)")
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + escape(m.group(1)) + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + escape(m.group(2)) + "\\fR")
        elif m.group(3) is not None:
            out.append("\\fI" + escape(m.group(3)) + "\\fR")
        else:
            out.append(escape(m.group(4)))
        pos = m.end()
    out.append(escape(text[pos:]))
    line = "".join(out)
    # A line starting with a dot or quote would be a request.
    if line.startswith(".") or line.startswith("'"):
        line = "\\&" + line
    return line


def table(rows):
    """Markdown table rows (header, separator, body) to tbl."""
    cells = [[c.strip() for c in r.strip().strip("|").split("|")]
             for r in rows]
    header, body = cells[0], [r for r in cells[2:]]
    n = len(header)
    out = [".TS", "allbox tab(\x07);", " ".join(["lb"] * n),
           " ".join(["l"] + ["lx"] * (n - 1)) + "."]
    out.append("\x07".join(inline(c) for c in header))
    for r in body:
        r = (r + [""] * n)[:n]
        out.append("\x07".join("T{\n" + inline(c) + "\nT}" for c in r))
    out.append(".TE")
    return out


def convert(lines, name, section, title):
    out = ["'\\\" t",
           '.TH "%s" "%s" "" "vsw" "%s"' % (name.upper(), section, title),
           ".ad l", ".SH NAME", "%s \\- %s" % (escape(name), escape(title))]
    i = 0
    para = []

    def flush():
        if para:
            out.append(".PP")
            out.append(inline(" ".join(para)))
            para.clear()

    while i < len(lines):
        line = lines[i].rstrip("\n")
        if line.startswith("# "):
            i += 1
            continue
        if line.startswith("```"):
            flush()
            out += [".PP", ".RS 4", ".nf"]
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append("\\&" + escape(lines[i].rstrip("\n")))
                i += 1
            out += [".fi", ".RE"]
        elif line.startswith("### "):
            flush()
            out += [".SS " + '"' + inline(line[4:]) + '"']
        elif line.startswith("## "):
            flush()
            out += [".SH " + '"' + inline(line[3:].upper()) + '"']
        elif line.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            out += table(rows)
            continue
        elif re.match(r"^\s*- ", line):
            flush()
            indent = len(line) - len(line.lstrip())
            item = [line.strip()[2:]]
            i += 1
            while (i < len(lines) and lines[i].strip()
                   and not re.match(r"^\s*- ", lines[i])
                   and not lines[i].startswith(("#", "|", "```"))
                   and len(lines[i]) - len(lines[i].lstrip()) > indent):
                item.append(lines[i].strip())
                i += 1
            if indent:
                out += [".RS 4"]
            out += [".IP \\(bu 2", inline(" ".join(item))]
            if indent:
                out += [".RE"]
            continue
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return "\n".join(out) + "\n"


def main():
    src, dst, name, section = sys.argv[1:5]
    title = sys.argv[5] if len(sys.argv) > 5 else name
    with open(src) as f:
        lines = f.readlines()
    with open(dst, "w") as f:
        f.write(convert(lines, name, section, title))


if __name__ == "__main__":
    main()
