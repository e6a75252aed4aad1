# SPDX-License-Identifier: GPL-2.0-or-later
"""The module's DocBook documents everything the module exports: every parameter,
cfg function, KEMI function, RPC command, reason (number, name, SIP code) and counter
found in the C sources has its entry in doc/tpid_assert_admin.xml. Reads the sources;
starts nothing.

Run: /usr/bin/python3 -m pytest tests/integration/test_docs.py
"""
import re
from pathlib import Path

import pytest

MOD = Path(__file__).resolve().parents[2] / "modules" / "tpid_assert"
ADMIN = (MOD / "doc" / "tpid_assert_admin.xml").read_text()


def glue():
    return "\n".join(p.read_text() for p in sorted(MOD.glob("tpid_assert_*.c")))


def exported_params():
    src = (MOD / "tpid_assert_mod.c").read_text()
    block = src[src.index("param_export_t params[]"):]
    block = block[:block.index("{0, 0, 0}")]
    return sorted(set(re.findall(r'\{"([a-z0-9_]+)",\s*PARAM_', block)))


def exported_cmds():
    src = (MOD / "tpid_assert_mod.c").read_text()
    block = src[src.index("cmd_export_t cmds[]"):]
    block = block[:block.index("{0, 0, 0, 0, 0, 0}")]
    return sorted(set(re.findall(r'\{"([a-z0-9_]+)",\s*\(cmd_function\)', block)))


def kemi_functions():
    src = (MOD / "tpid_assert_mod.c").read_text()
    block = src[src.index("sr_kemi_t sr_kemi_tpid_assert_exports[]"):]
    return sorted(set(re.findall(r'str_init\("([a-z0-9_]+)"\)', block)) - {"tpid_assert", ""})


def rpc_commands():
    return sorted(set(re.findall(r'\{"(tpid_assert\.[a-z0-9_]+)",', glue())))


def reasons():
    """(number, name, sip code, counter or None) of every row of tpid_reason.c."""
    hdr = (MOD / "tpid_reason.h").read_text()
    num = {m[0]: int(m[1]) for m in re.findall(r"\b(TPID_(?:R_[A-Z0-9_]+|OK))\s*=\s*(\d+)", hdr)}
    rows = re.findall(r'\{(TPID_[A-Z0-9_]+),\s*"([A-Z0-9_]+)",\s*(\d+),\s*"[^"]*",\s*'
                      r'(NULL|"[a-z0-9_]+")\}', (MOD / "tpid_reason.c").read_text())
    assert len(rows) >= 40
    return [(num[sym], name, int(code), None if ctr == "NULL" else ctr.strip('"'))
            for sym, name, code, ctr in rows]


def counters():
    names = {r[3] for r in reasons() if r[3]}
    stats = (MOD / "tpid_assert_stats.c").read_text()
    names |= set(re.findall(r'\{"([a-z0-9_]+)",\s*(?:0|STAT_NO_RESET),', stats))
    names |= set(re.findall(r'counter_register\([^,]+,\s*"tpid_assert",\s*"([a-z0-9_]+)"',
                            glue(), re.S))
    return sorted(names)


def test_sources_are_read():
    # the extractors above must keep seeing the exports, or every test below is empty
    assert "x5u_signer" in exported_params() and len(exported_params()) >= 35
    assert "tpid_assert_term" in exported_cmds()
    assert "tpid_assert_term" in kemi_functions()
    assert "tpid_assert.x5u_flush" in rpc_commands()
    assert "x5u_fetches" in counters() and "replay" in counters()


@pytest.mark.parametrize("name", exported_params())
def test_every_parameter_has_its_section(name):
    assert f'<section id="tpid_assert.p.{name}">' in ADMIN


@pytest.mark.parametrize("name", exported_cmds())
def test_every_cfg_function_has_its_section(name):
    assert f'<section id="tpid_assert.f.{name}">' in ADMIN


@pytest.mark.parametrize("name", kemi_functions())
def test_every_kemi_function_is_listed(name):
    kemi = ADMIN[ADMIN.index('<section id="tpid_assert.kemi">'):]
    assert name in kemi[:kemi.index("</section>")]


@pytest.mark.parametrize("name", rpc_commands())
def test_every_rpc_command_has_its_section(name):
    assert f'<section id="tpid_assert.r.{name[len("tpid_assert."):]}">' in ADMIN


@pytest.mark.parametrize("num,name,code,counter", reasons())
def test_every_reason_is_in_the_reason_table(num, name, code, counter):
    table = ADMIN[ADMIN.index('<section id="tpid_assert.reasons">'):]
    table = table[:table.index("</table>")]
    row = re.search(rf"<row><entry>{num}</entry><entry>{name}</entry><entry>(\d+)", table)
    assert row, f"reason {num} {name} missing"
    assert int(row.group(1)) == code


@pytest.mark.parametrize("name", counters())
def test_every_counter_is_in_the_statistics_table(name):
    table = ADMIN[ADMIN.index('<section id="tpid_assert.stats">'):]
    assert f"<row><entry>{name}</entry>" in table


# The shipped cfgs fail closed: every documented "could not act" return is checked
# (tpid_assert_strip() -1; -2 or no result from orig/term, the avatar's too), and
# such a request is answered, never relayed.
CFG_DIR = MOD.parents[1] / "cfg"


@pytest.mark.parametrize("cfg", ["orig-scscf.cfg", "term-scscf.cfg"])
def test_native_cfgs_fail_closed(cfg):
    text = (CFG_DIR / cfg).read_text()
    calls = re.findall(r"^\s*(.*tpid_assert_strip\(\).*)$", text, re.M)
    assert calls and all(c.startswith("if (!tpid_assert_strip())") for c in calls), calls
    assert re.search(r"\$tpid\(result\) == \$null \|\| \$tpid\(result\) == -2\s*"
                     r"\|\| \$tpid\(avatar_result\) == -2\)\s*\{\s*t_reply\(\"500\"", text)


def test_kemi_cfg_fails_closed():
    text = (CFG_DIR / "orig-scscf-kemi.py").read_text()
    assert "if KSR.tpid_assert.tpid_assert_strip() < 0:" in text
    assert "KSR.tpid_assert.tpid_assert_strip()\n" not in text.replace(
        "if KSR.tpid_assert.tpid_assert_strip() < 0:\n", "")
    assert re.search(r"if res is None or res == -2 or avres == -2:\s*"
                     r"KSR\.tm\.t_reply\(500", text)
