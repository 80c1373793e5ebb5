#!/usr/bin/env bash
# minigan's GPU check, in one command (chapters 03-04 for the kernels, 08 for the DCGAN iteration).
#
#   bash tests/gpu/check.sh [--venv DIR] [--no-install] [--quick] [--force]
#
# On a machine with an NVIDIA GPU, CUDA, CuPy and numba-cuda already installed (no network needed) it
#   0. checks that a GPU is usable (nvidia-smi, CuPy, numba.cuda); if not, it says so and exits 2 at once,
#      installing nothing;
#   1. pip-installs minigan from this repository (--no-deps --no-build-isolation --no-index, editable)
#      into the current Python ($PYTHON, else python), or into a venv made with --system-site-packages;
#   2. runs the GPU tests:            python -m pytest -q -m gpu tests/gpu
#   3. times the CUDA kernels against cuBLAS / cuDNN:   python -m minigan.kernels.cuda.bench
#      (the GPU section of python -m minigan.kernels.bench; --quick, or a timeout, gives small sizes);
#   4. times one DCGAN training iteration, minigan on CUDA vs PyTorch CUDA:
#                                     python -m minigan.gan.dcgan_bench --device cuda
# each step under `timeout`, all of it within TIME_BUDGET_S (default 470 s), and writes a report (GPU,
# versions, each step's status, pass/fail counts, the tables) to $OUT/gpu_report.md when OUT is set, else
# to ./gpu_report.md. A failing step does not stop the others. Exit status: 0 when every step passed,
# 1 when one failed or timed out, 2 when no GPU is usable. Full logs: $OUT/gpu_check_logs/ (or a
# temporary folder named in the report). --force runs the steps even when no GPU looks usable (to see
# how they fail). See tests/gpu/README.md.

set -u
set -o pipefail

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

VENV="" INSTALL=1 QUICK=0 FORCE=0
while (($#)); do
    case "$1" in
        --venv) VENV="${2:?--venv needs a folder}"; shift 2 ;;
        --no-install) INSTALL=0; shift ;;
        --quick) QUICK=1; shift ;;
        --force) FORCE=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "check.sh: unknown argument '$1' (try --help)" >&2; exit 64 ;;
    esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ -n "$VENV" && "$VENV" != /* ]] && VENV="$PWD/$VENV"
if [[ -n "${OUT:-}" ]]; then
    mkdir -p "$OUT"
    REPORT="$(cd "$OUT" && pwd)/gpu_report.md"
    LOGS="$(cd "$OUT" && pwd)/gpu_check_logs"
    mkdir -p "$LOGS"
else
    REPORT="$PWD/gpu_report.md"
    LOGS="$(mktemp -d "${TMPDIR:-/tmp}/minigan_gpu_check.XXXXXX")"
fi
BUDGET="${TIME_BUDGET_S:-470}"
START=$(date +%s)
DEADLINE=$((START + BUDGET))
PY="${PYTHON:-$(command -v python || command -v python3 || echo python)}"
unset NUMBA_ENABLE_CUDASIM # the simulator would make every CUDA kernel "pass" on the CPU
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONUNBUFFERED=1
cd "$ROOT" || exit 1

NAMES=() STATUS=() SECS=() NOTES=() STEPLOGS=()
record() { # name status seconds note log
    NAMES+=("$1") STATUS+=("$2") SECS+=("$3") NOTES+=("$4") STEPLOGS+=("$5")
    printf '== %-34s %-8s %4ss  %s\n' "$1" "$2" "$3" "$4"
}

# run_step NAME LIMIT_S LOG CMD...: runs CMD under timeout (capped by what is left of the budget), output
# to the terminal and LOG; sets RC and STEP_S; returns CMD's status (124: timed out or not run)
run_step() {
    local name=$1 limit=$2 log=$3 left t0
    shift 3
    left=$((DEADLINE - $(date +%s)))
    SKIPPED=0
    if ((left < 20)); then
        RC=124 STEP_S=0 SKIPPED=1
        echo "not run: the time budget of ${BUDGET}s was spent" >"$log"
        return 124
    fi
    ((limit > left)) && limit=$left
    echo "-- $name: $* (timeout ${limit}s)"
    t0=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" </dev/null 2>&1 | tee "$log"
    RC=${PIPESTATUS[0]}
    STEP_S=$(($(date +%s) - t0))
    ((RC == 137)) && RC=124
    return "$RC"
}

status_of() { # rc -> PASS / TIMEOUT / FAIL, or NOT RUN when run_step found the budget spent
    if ((SKIPPED)); then echo "NOT RUN (budget)"; return; fi
    case "$1" in 0) echo PASS ;; 124) echo TIMEOUT ;; *) echo FAIL ;; esac
}
SKIPPED=0

tail_block() { # the last lines of a log, fenced
    echo '```'
    tail -n "${2:-40}" "$1" 2>/dev/null
    echo '```'
}

GPU_LINE="(nvidia-smi not found)"
if command -v nvidia-smi >/dev/null 2>&1; then
    GPU_LINE="$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 |
        head -n 4 | paste -sd ';' -)"
    [[ -n "$GPU_LINE" ]] || GPU_LINE="(nvidia-smi listed no GPU)"
fi

write_report() {
    local i pass=0 fail=0
    for i in "${!STATUS[@]}"; do
        if [[ "${STATUS[$i]}" == PASS ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
    done
    {
        echo "# minigan GPU check"
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), host $(uname -n), $(uname -sm)"
        echo "- GPU (nvidia-smi: name, driver, memory): $GPU_LINE"
        echo "- minigan: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout')$(
            git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (working tree differs from it)')"
        echo "- python: $PY; total time $(($(date +%s) - START)) s of a ${BUDGET} s budget; logs: $LOGS"
        [[ -s "$LOGS/versions.txt" ]] && sed 's/^/- /' "$LOGS/versions.txt"
        echo
        echo "**Steps: $pass passed, $fail failed.**"
        echo
        echo "| step | status | seconds | detail |"
        echo "|---|---|---:|---|"
        for i in "${!NAMES[@]}"; do
            echo "| ${NAMES[$i]} | ${STATUS[$i]} | ${SECS[$i]} | ${NOTES[$i]} |"
        done
        if [[ -s "$LOGS/pytest.log" ]]; then
            echo
            echo "## GPU tests (python -m pytest -q -m gpu tests/gpu)"
            echo
            tail_block "$LOGS/pytest.log" 30
        fi
        for f in kernel_bench.log kernel_bench_quick.log; do
            if [[ -s "$LOGS/$f" ]]; then
                echo
                echo "## CUDA kernels vs cuBLAS / cuDNN ($f)"
                echo
                if grep -q '^| op |' "$LOGS/$f"; then
                    grep -E '^(device:|\|)' "$LOGS/$f"
                else
                    tail_block "$LOGS/$f"
                fi
            fi
        done
        if [[ -s "$LOGS/dcgan_bench.log" ]]; then
            echo
            echo "## One DCGAN iteration, minigan on CUDA vs PyTorch CUDA"
            echo
            tail_block "$LOGS/dcgan_bench.log" 30
        fi
        for i in "${!NAMES[@]}"; do
            if [[ "${STATUS[$i]}" != PASS && -s "${STEPLOGS[$i]}" && "${STEPLOGS[$i]}" != */pytest.log &&
                "${STEPLOGS[$i]}" != */dcgan_bench.log && "${STEPLOGS[$i]}" != */kernel_bench*.log ]]; then
                echo
                echo "## ${NAMES[$i]}: ${STATUS[$i]} (end of ${STEPLOGS[$i]})"
                echo
                tail_block "${STEPLOGS[$i]}"
            fi
        done
    } >"$REPORT"
    echo "report: $REPORT"
}

# -- 0. is a GPU usable? (nothing is installed before this answers yes) -------------------------------------
if ! command -v timeout >/dev/null 2>&1; then
    echo "check.sh: needs GNU coreutils' timeout" >&2
    exit 1
fi
t0=$(date +%s)
timeout 90 "$PY" - >"$LOGS/preflight.txt" 2>&1 <<'EOF'
import importlib.util, sys
problems = []
try:
    import cupy as cp
    if not cp.cuda.is_available():
        problems.append("CuPy is installed but sees no usable CUDA GPU")
    else:
        assert int(cp.arange(10).sum()) == 45  # a kernel really runs
except ImportError as err:
    problems.append(f"CuPy is not installed ({err}); pip install 'minigan[cuda12]' or 'minigan[cuda13]'")
except Exception as err:
    problems.append(f"CuPy failed to run a kernel: {type(err).__name__}: {err}")
try:
    from numba import cuda
    if not cuda.is_available():
        problems.append("numba.cuda sees no usable GPU (is numba-cuda installed? NUMBA_ENABLE_CUDASIM unset?)")
except Exception as err:
    problems.append(f"numba.cuda failed: {type(err).__name__}: {err}")
print("\n".join(problems) if problems else "GPU usable")
missing = [m for m in ("pytest", "hypothesis", "matplotlib", "setuptools") if importlib.util.find_spec(m) is None]
if missing:  # not a reason to stop: the steps that need them fail and say so
    print(f"(also missing: {', '.join(missing)}: the install or the tests will fail)")
sys.exit(1 if problems else 0)
EOF
rc=$?
note="$(grep -v '^(also missing' "$LOGS/preflight.txt" | sed 's/|/\//g' | paste -sd ';' - | sed 's/; */; /g' | cut -c1-400)"
if ((rc != 0)); then
    record "GPU usable" FAIL $(($(date +%s) - t0)) "NO USABLE GPU: $note" "$LOGS/preflight.txt"
    echo "check.sh: no GPU is usable here:" >&2
    sed 's/^/  /' "$LOGS/preflight.txt" >&2
    echo "  nvidia-smi: $GPU_LINE" >&2
    if ((!FORCE)); then
        echo "  nothing was installed or run (--force runs the steps anyway)" >&2
        write_report
        exit 2
    fi
else
    record "GPU usable" PASS $(($(date +%s) - t0)) "$GPU_LINE" "$LOGS/preflight.txt"
fi

# -- 1. install minigan from this checkout ------------------------------------------------------------------
if [[ -n "$VENV" ]]; then
    if [[ ! -x "$VENV/bin/python" ]]; then
        "$PY" -m venv --system-site-packages "$VENV" >"$LOGS/venv.log" 2>&1 ||
            record "venv (--system-site-packages)" FAIL 0 "could not create $VENV" "$LOGS/venv.log"
    fi
    [[ -x "$VENV/bin/python" ]] && PY="$VENV/bin/python"
fi
if ((INSTALL)); then
    run_step install 120 "$LOGS/install.log" \
        "$PY" -m pip install --no-deps --no-build-isolation --no-index -e "$ROOT"
    record "pip install -e . (no deps, no network)" "$(status_of "$RC")" "$STEP_S" "into $PY" "$LOGS/install.log"
fi
"$PY" - >"$LOGS/versions.txt" 2>&1 <<'EOF'
import importlib.metadata as md, platform
def version(*dists):
    for d in dists:
        try:
            return f"{d} {md.version(d)}"
        except md.PackageNotFoundError:
            pass
    return f"{dists[0]}: not installed"
print(f"Python {platform.python_version()}; " + "; ".join(
    version(*d) for d in (("numpy",), ("numba",), ("numba-cuda",), ("cupy-cuda12x", "cupy-cuda13x", "cupy"),
                          ("torch",), ("pytest",))))
try:
    import cupy as cp
    rt, drv = cp.cuda.runtime.runtimeGetVersion(), cp.cuda.runtime.driverGetVersion()
    name = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
    name = name.decode() if isinstance(name, bytes) else name
    cc = cp.cuda.Device().compute_capability
    print(f"CuPy sees {name} (compute capability {cc}); CUDA runtime {rt}, driver {drv}")
except Exception as err:
    print(f"CuPy: {type(err).__name__}: {err}")
try:
    import torch
    print(f"torch {torch.__version__}, built for CUDA {torch.version.cuda}, cuda available: "
          f"{torch.cuda.is_available()}")
except ImportError:
    print("torch: not installed (the PyTorch rows are skipped)")
try:
    import minigan, minigan.kernels
    print(f"minigan imported from {minigan.__file__}")
except Exception as err:
    print(f"import minigan failed: {type(err).__name__}: {err}")
EOF

# -- 2. the GPU tests ---------------------------------------------------------------------------------------
run_step "GPU tests" 180 "$LOGS/pytest.log" "$PY" -m pytest -q -m gpu -p no:cacheprovider tests/gpu
counts="$(grep -E '[0-9]+ (passed|failed|error|errors|skipped|deselected)' "$LOGS/pytest.log" | tail -n 1 |
    grep -oE '[0-9]+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed)' | paste -sd ',' - | sed 's/,/, /g')"
st="$(status_of "$RC")"
if [[ "$st" == PASS && ! "$counts" =~ [1-9][0-9]*\ passed ]]; then
    st=FAIL counts="no GPU test ran (${counts:-nothing collected})"
fi
((RC == 5)) && counts="no GPU test ran (${counts:-none collected})"
record "GPU tests (pytest -m gpu tests/gpu)" "$st" "$STEP_S" "${counts:-see the log}" "$LOGS/pytest.log"

# -- 3. the CUDA kernels against cuBLAS / cuDNN -------------------------------------------------------------
if ((QUICK)); then
    run_step "kernel bench --quick" 90 "$LOGS/kernel_bench_quick.log" "$PY" -m minigan.kernels.cuda.bench --quick
    record "kernel bench (--quick sizes)" "$(status_of "$RC")" "$STEP_S" "" "$LOGS/kernel_bench_quick.log"
else
    run_step "kernel bench" 150 "$LOGS/kernel_bench.log" "$PY" -m minigan.kernels.cuda.bench
    record "kernel bench (GEMM 1024-8192, DCGAN convs)" "$(status_of "$RC")" "$STEP_S" "" "$LOGS/kernel_bench.log"
    if ((RC == 124)); then # too slow for the budget: the small sizes still show every kernel runs
        run_step "kernel bench --quick" 60 "$LOGS/kernel_bench_quick.log" \
            "$PY" -m minigan.kernels.cuda.bench --quick
        record "kernel bench (--quick sizes)" "$(status_of "$RC")" "$STEP_S" "after the timeout" \
            "$LOGS/kernel_bench_quick.log"
    fi
fi

# -- 4. one DCGAN training iteration on CUDA, against PyTorch CUDA ------------------------------------------
iters=20
((QUICK)) && iters=5
run_step "DCGAN iteration" 120 "$LOGS/dcgan_bench.log" "$PY" -m minigan.gan.dcgan_bench --device cuda \
    --iters "$iters" --warmup 3 --rounds 1 --json "$LOGS/dcgan_bench.json"
st="$(status_of "$RC")"
note="$(grep -E 'ratio minigan' "$LOGS/dcgan_bench.log" | head -n 1 | sed 's/^ *//')"
grep -q 'torch: not installed' "$LOGS/dcgan_bench.log" && note="minigan only: torch is not installed"
if [[ "$st" == PASS ]] && grep -qE '^ *(minigan|torch): failed' "$LOGS/dcgan_bench.log"; then
    st=FAIL note="a worker failed: $(grep -oE '^ *(minigan|torch): failed: [^:]*' \
        "$LOGS/dcgan_bench.log" | sed 's/^ *//' | paste -sd ';' - | sed 's/;/; /g')"
fi
if [[ "$st" == PASS ]] && ! grep -qE '^ *minigan: wall median' "$LOGS/dcgan_bench.log"; then
    st=FAIL note="no minigan timing in the output"
fi
record "DCGAN iteration on CUDA (dcgan_bench)" "$st" "$STEP_S" "$note" "$LOGS/dcgan_bench.log"

write_report
[[ "${STATUS[0]}" == PASS ]] || exit 2
for s in "${STATUS[@]}"; do
    [[ "$s" == PASS ]] || exit 1
done
exit 0
