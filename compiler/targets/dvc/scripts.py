"""The fixed scripts of a DVC pipeline directory: the launcher DVC calls, and the params reader.

A stage's `cmd` in `dvc.yaml` is only compiler-made words (`sh <dir>/run.sh <stage> <digest>`),
so neither DVC's `${...}` interpolation nor the user's `$SHELL` (DVC runs `cmd` with it: bash,
zsh, fish) ever sees spec text. The launcher, the same bytes for every spec:

1. reads the params file (`params.yaml` of the directory) with python3's standard library and
   exports `MLOPS_PARAM_<NAME>`: the values DVC tracks are the values the stage sees;
2. sources `stages/<stage>.sh`, the stage's data as shell words (`render.stage_file`);
3. runs the stage runner (`runner.sh`, `compiler.render.runner`) once, or once per matrix
   combination in turn, each in a subshell with its own variables: retries, timeout, gate;
4. writes the stage's stamp file, when another stage orders itself after it by a bare `needs`.

The digest in `cmd` is the stage file's sha256: when a stage changes (its command, variables,
retries...), its `cmd` changes, which is how DVC knows to rerun a cached stage.
"""

from __future__ import annotations

PARAMS_FILE = "params.yaml"
RUNNER_FILE = "runner.sh"
LAUNCHER_FILE = "run.sh"
PARAMS_SCHEMA_FILE = "params_schema.sh"     # compiler.render.params_check: the schemas, as data
PARAMS_CHECK_FILE = "params_check.py"       # and the fixed check of a run's values
STAGES_DIR = "stages"
STAMPS_DIR = "stamps"

# Reads the params file as `mlops build` writes it: one `name: value` per line, the value plain,
# 'single-quoted' or "double-quoted" with YAML's escapes (what `dvc exp run -S` writes back for
# scalars, too). Prints `export` lines of shell words: data, never code.
PARAMS_READER = r'''import re, shlex, sys
path = sys.argv[1]
ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
           "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
           "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"}
LINE = re.compile(r"""(["']?)([a-z][a-z0-9_-]*)\1:(?:[ ]+(.*?))?[ ]*""")
def double(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '"':
            raise ValueError("an unescaped '\"' inside a double-quoted value")
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = text[i + 1:i + 2]
        size = {"x": 2, "u": 4, "U": 8}.get(e)
        if size:
            out.append(chr(int(text[i + 2:i + 2 + size], 16)))
            i += 2 + size
        elif e in ESCAPES:
            out.append(ESCAPES[e])
            i += 2
        else:
            raise ValueError("an unknown escape '\\" + e + "'")
    return "".join(out)
def value(text):
    if text.startswith('"') and text.endswith('"') and len(text) > 1:
        return double(text[1:-1])
    if text.startswith("'") and text.endswith("'") and len(text) > 1:
        inner = text[1:-1]
        if re.search(r"(?<!')'(?!')", inner.replace("''", "")):
            raise ValueError("an unescaped quote inside a single-quoted value")
        return inner.replace("''", "'")
    if text[:1] in ('"', "'", "|", ">", "[", "{", "&", "*", "!") or " #" in text:
        raise ValueError("a value this reader does not take; write it on one line, quoted")
    return text
try:
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
except OSError as e:
    sys.exit("mlops: cannot read params file %r: %s" % (path, e))
for number, line in enumerate(lines, 1):
    if not line.strip() or line.lstrip().startswith("#"):
        continue
    match = LINE.fullmatch(line)
    try:
        if match is None or match.group(3) is None:
            raise ValueError("not 'name: value'")
        text = value(match.group(3))
    except (ValueError, IndexError) as e:
        sys.exit("mlops: %s line %d: %s (one 'name: value' per line; 'mlops build' rewrites "
                 "the file)" % (path, number, e))
    print("export MLOPS_PARAM_%s=%s" % (match.group(2).upper().replace("-", "_"),
                                        shlex.quote(text)))
'''

LAUNCHER = f"""\
# Runs one stage for DVC, from the stage's wdir: sh <this directory>/{LAUNCHER_FILE} STAGE DIGEST
# (DIGEST changes when the stage does, so that DVC sees the change). Fixed text: the stage's
# data is in {STAGES_DIR}/STAGE.sh, its params in {PARAMS_FILE}, read now.
mlops_dir=${{0%/*}}
mlops_stage=${{1:?usage: sh {LAUNCHER_FILE} STAGE DIGEST}}
if [ -f "$mlops_dir/{PARAMS_FILE}" ]; then
  mlops_params=$(python3 - "$mlops_dir/{PARAMS_FILE}" <<'MLOPS_PARAMS_SCRIPT'
{PARAMS_READER}MLOPS_PARAMS_SCRIPT
  ) || exit 2
  eval "$mlops_params"
fi
if [ -f "$mlops_dir/{PARAMS_SCHEMA_FILE}" ]; then  # a value outside its schema: no stage runs
  . "$mlops_dir/{PARAMS_SCHEMA_FILE}"
  python3 "$mlops_dir/{PARAMS_CHECK_FILE}" || exit
fi
mlops_combinations=
mlops_stamp=
. "$mlops_dir/{STAGES_DIR}/$mlops_stage.sh"
if [ -z "$mlops_combinations" ]; then
  (mlops_env && exec sh "$mlops_dir/{RUNNER_FILE}") || exit
else
  for mlops_key in $mlops_combinations; do
    echo "mlops: $mlops_stage: combination $mlops_key" >&2
    (mlops_matrix "$mlops_key" && mlops_env && exec sh "$mlops_dir/{RUNNER_FILE}") || exit
  done
fi
if [ -n "$mlops_stamp" ]; then
  mkdir -p "$mlops_dir/{STAMPS_DIR}" && echo done > "$mlops_dir/{STAMPS_DIR}/$mlops_stage"
fi
"""
