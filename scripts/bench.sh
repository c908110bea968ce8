#!/usr/bin/env bash
# bench.sh runs Cairn's benchmark suite and writes BENCHMARKS.md and a plot.
#
# The suite (cmd/benchmark; 8-byte keys, 256-byte random values):
#   put with 1, 4, 16, 64 and 256 clients (up to 16 connections)
#   linearizable and serializable get of one key with 16 clients
#   range over a prefix of 1000 keys, 16 clients
#   txn-put of 10 keys per txn, 16 clients
#   watch fan-out: 1000 watchers on one key, 10 streams of 100
#   RSS (VmRSS of /proc/<pid>/status) of a fresh member after loading
#   1,000,000 keys, its data dir size, and its restart time to the first
#   served linearizable read with those keys
#
# Targets: a fresh single Cairn member and a fresh 3-member Cairn cluster on
# loopback (built from this repository), or --endpoints for a running
# cluster (load cases only). With --etcd the same suite also runs against a
# reference etcd v3.6.x, built in a temporary directory outside the
# repository from the Go module proxy, and the tables show Cairn/etcd
# ratios. Cases alternate between Cairn and etcd so that drift in the
# machine's load hits both alike.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: scripts/bench.sh [options]

  --quick              small totals; the 1,000,000 keys are loaded in txns of
                       100 puts; finishes in a few minutes
  --etcd               also run the suite against a reference etcd
  --etcd-version V     reference etcd version (default v3.6.16)
  --etcd-bin PATH      use this etcd binary instead of building one
  --cairn-bin PATH     use this Cairn binary instead of building ./cmd/etcd
  --cairn-label TEXT   how BENCHMARKS.md names that binary (e.g. a commit)
  --endpoints EPS      benchmark a running cluster (comma-separated
                       host:port) instead of starting Cairn; memory and
                       restart are skipped
  --no-cluster         skip the 3-member clusters
  --no-memory          skip the 1,000,000-key memory and restart test
  --out DIR            where BENCHMARKS.md and BENCHMARKS.png go
                       (default: the repository root)
  --keep               keep the work directory (logs, raw results)
  --report-from DIR    only rewrite BENCHMARKS.md and the plot from the raw
                       results in a work directory kept with --keep
  -h, --help           this help

Environment: BENCH_LOAD_KEYS overrides the 1,000,000 keys of the memory test;
BENCH_SCALE scales the case totals, as a percentage of the quick ones.
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=0 WITH_ETCD=0 CLUSTER=1 MEMORY=1 KEEP=0
ETCD_VERSION=v3.6.16 ETCD_BIN="" CAIRN_BIN="" CAIRN_LABEL="" GIVEN="" OUT=$ROOT REPORT_FROM=""
LOAD_KEYS=${BENCH_LOAD_KEYS:-1000000}
ARGS=$(printf '%q ' "$@")
ARGS=${ARGS% }
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--etcd) WITH_ETCD=1 ;;
	--etcd-version) ETCD_VERSION=$2; shift ;;
	--etcd-bin) ETCD_BIN=$2; WITH_ETCD=1; shift ;;
	--cairn-bin) CAIRN_BIN=$2; shift ;;
	--cairn-label) CAIRN_LABEL=$2; shift ;;
	--report-from) REPORT_FROM=$2; shift ;;
	--endpoints) GIVEN=$2; shift ;;
	--no-cluster) CLUSTER=0 ;;
	--no-memory) MEMORY=0 ;;
	--out) OUT=$2; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in go jq awk; do
	command -v "$tool" >/dev/null || die "$tool is required"
done
if ! command -v gnuplot >/dev/null; then
	log "installing gnuplot-nox for the plot"
	if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi
	$SUDO apt-get install -y gnuplot-nox >/dev/null 2>&1 ||
		{ $SUDO apt-get update >/dev/null 2>&1 && $SUDO apt-get install -y gnuplot-nox >/dev/null 2>&1; } ||
		log "could not install gnuplot: no plot will be drawn"
fi

PIDS=() # every server process this script started

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "$KEEP" = 1 ]; then
		log "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}

# ---------------------------------------------------------------- report

# write_report renders BENCHMARKS.md and the plot from the work directory's
# results.jsonl, env.json and cases.json.
write_report() {
	local RESULTS=$WORK/results.jsonl BENCH_ENV CASE_DESCS CAIRN1=cairn-1 MODE STARTED
	BENCH_ENV=$(cat "$WORK/env.json")
	CASE_DESCS=$(cat "$WORK/cases.json")
	MODE=$(jq -r .mode <<<"$BENCH_ENV")
	STARTED=$(jq -r .started <<<"$BENCH_ENV")
	jq -e 'select(.target == "given")' "$RESULTS" >/dev/null 2>&1 && CAIRN1=given
	mkdir -p "$OUT"
	local MD=$OUT/BENCHMARKS.md PNG=BENCHMARKS.png GEN=$WORK/generated.md
	local PLOT_CASES PLOT_DATA SERIES rows plots_rps plots_p99 title i t
	PLOT_CASES=$(jq -r '[.[] | select(.name | startswith("put-c")) | .name] | join(" ")' <<<"$CASE_DESCS")

	# The generated section; everything outside its markers in an existing
	# BENCHMARKS.md is kept.
	jq -rs --argjson env "$BENCH_ENV" --argjson cases "$CASE_DESCS" --arg c1 "$CAIRN1" --arg png "$PNG" -f /dev/stdin "$RESULTS" >"$GEN" <<'JQ'
def r(x): if x == null then "–" else (x * 100 | round / 100 | tostring) end;
def ratio(a; b): if a == null or b == null or b == 0 then "–" else ((a / b * 100 | round / 100 | tostring) + "×") end;
def mib(k): if k == null then null else (k / 1024 | round) end;
def res(t; c): map(select(.target == t and .case == c)) | first;
def cpu(x): if x == null or x.cpu_ms == null or (x.ops // 0) == 0 then null else x.cpu_ms * 1000 / x.ops end;
def table(ct; et; heading):
  . as $all
  | ($all | any(.target == et)) as $haveEtcd
  | (if ct == "given" then "Endpoint" else "Cairn" end) as $n
  | "| " + heading + " | \($n) req/s | " + (if $haveEtcd then "etcd req/s | \($n)/etcd | " else "" end)
    + "\($n) p99 ms | " + (if $haveEtcd then "etcd p99 ms | \($n)/etcd | " else "" end)
    + "\($n) CPU µs/req |" + (if $haveEtcd then " etcd CPU µs/req | \($n)/etcd |" else "" end),
    "|---|---:|" + (if $haveEtcd then "---:|---:|" else "" end) + "---:|" + (if $haveEtcd then "---:|---:|" else "" end)
    + "---:|" + (if $haveEtcd then "---:|---:|" else "" end),
    ($cases[] as $k
     | ($all | res(ct; $k.name)) as $c
     | ($all | res(et; $k.name)) as $e
     | "| " + $k.desc + " | "
       + (if $c.failed then "failed: " + $c.failed else r($c.rps) end) + " | "
       + (if $haveEtcd then (if $e.failed then "failed: " + $e.failed else r($e.rps) end) + " | " + ratio($c.rps; $e.rps) + " | " else "" end)
       + r($c.p99_ms) + " | "
       + (if $haveEtcd then r($e.p99_ms) + " | " + ratio($c.p99_ms; $e.p99_ms) + " | " else "" end)
       + r(cpu($c)) + " |"
       + (if $haveEtcd then " " + r(cpu($e)) + " | " + ratio(cpu($c); cpu($e)) + " |" else "" end));
def notes(t): map(select(.target == t and .note)) | map("- " + t + " skipped: " + .text) | .[];
. as $all
| "## Latest run (\($env.mode) mode)",
  "",
  "- When: \($env.started), `scripts/bench.sh \($env.args)`.",
  "- Machine: \($env.cpu), \($env.ncpu) vCPUs, \($env.mem) GiB RAM, \($env.kernel), Go \($env.gov | ltrimstr("go")). Loopback only; the load tool and the server(s) share the same cores, and other work on the machine was not stopped (load average \($env.load0) at the start, \($env.load1) at the end), so treat small differences as noise.",
  "- Servers: \($env.cairn)" + (if $env.etcd != "" then "; reference \($env.etcd), built from the Go module proxy, default flags." else "." end),
  "- Keys are 8 bytes, values 256 random bytes. Each row is one run of `cmd/benchmark`; req/s counts successful requests over the run's wall time, p99 is the nearest-rank 99th percentile of per-request latency. CPU µs/req is the CPU time (user and system) all members of the cluster used during the run, per request (per event for the watch case). Ratios are Cairn/etcd: above 1 is better for req/s, below 1 is better for p99 and CPU.",
  "",
  (if $c1 == "given" then "### The given endpoint" + (if ($all | any(.target == "etcd-1")) then " and a single etcd member" else "" end) else "### Single member" end),
  "",
  ($all | table($c1; "etcd-1"; "Benchmark")),
  "",
  "### 3-member cluster",
  "",
  (if ($all | any(.target == "cairn-3" and .case)) then ($all | table("cairn-3"; "etcd-3"; "Benchmark (3 members)"))
   else "Not measured." end),
  "",
  ($all | notes("cairn-3")), ($all | notes("etcd-3")),
  "",
  "### Memory and restart with \($env.keys | tonumber | tostring) keys of 256 B",
  "",
  (($all | res("cairn-mem"; "memory")) as $c | ($all | res("etcd-mem"; "memory")) as $e
   | if $c == null and $e == null then "Not measured.", "" else
     (if $e then "| Measure | Cairn | etcd | Cairn/etcd |", "|---|---:|---:|---:|"
      else "| Measure | Cairn |", "|---|---:|" end),
     (["RSS after loading (MiB)", mib($c.rss_kib), mib($e.rss_kib)],
      ["Peak RSS while loading (MiB)", mib($c.hwm_kib), mib($e.hwm_kib)],
      ["Data dir size (MiB)", mib($c.du_kib), mib($e.du_kib)],
      ["Load rate (keys/s)", $c.load_keys_per_s, $e.load_keys_per_s],
      ["Restart to first linearizable read (ms)", $c.restart_ms, $e.restart_ms],
      ["RSS after restart and first read (MiB)", mib($c.rss_after_restart_kib), mib($e.rss_after_restart_kib)]
      | "| \(.[0]) | \(.[1] // "–") | " + (if $e then "\(.[2] // "–") | \(ratio(.[1]; .[2])) |" else "" end)),
     "",
     "Loaded into a fresh member with `benchmark \(($c // $e).load)`; RSS is VmRSS (peak: VmHWM) of /proc/<pid>/status. Restart: SIGTERM, wait for exit, start again and time until a linearizable read is served" + (if $env.mode == "quick" then " (one restart)." else " (median of three)." end),
     ""
   end),
  ($all | notes("cairn-mem")), ($all | notes("etcd-mem")),
  "",
  "### Put throughput and p99 against clients",
  "",
  "![put throughput and p99 latency against the number of clients](\($png))",
  "",
  "<details><summary>Exact benchmark commands</summary>",
  "",
  ($cases[] | "- \(.desc): `benchmark --clients \(.clients) --conns \(.conns) \(.args)`"),
  "- the range and get cases read keys written first with `benchmark --clients 16 --conns 16 put --total 1000 --sequential-keys --key-space-size 1000 --val-size 256`",
  "",
  "</details>"
JQ

	BEGIN_MARK='<!-- generated by scripts/bench.sh: begin -->'
	END_MARK='<!-- generated by scripts/bench.sh: end -->'
	if [ -f "$MD" ] && grep -qF "$BEGIN_MARK" "$MD" && grep -qF "$END_MARK" "$MD"; then
		awk -v b="$BEGIN_MARK" -v e="$END_MARK" -v gen="$GEN" '
			$0 == b { print; while ((getline l < gen) > 0) print l; skip = 1; next }
			$0 == e { skip = 0 }
			!skip' "$MD" >"$WORK/md.new"
		mv "$WORK/md.new" "$MD"
	else
		{
			echo "# Benchmarks"
			echo
			echo "Measured with \`scripts/bench.sh\` (\`make bench\`, or \`make bench-quick\`); the tool is \`cmd/benchmark\`."
			echo
			echo "$BEGIN_MARK"
			cat "$GEN"
			echo "$END_MARK"
		} >"$MD"
	fi
	log "wrote $MD"

	# ---------------------------------------------------------------- plot

	if command -v gnuplot >/dev/null; then
		PLOT_DATA=$WORK/plot.dat
		: >"$PLOT_DATA"
		SERIES=()
		for t in "$CAIRN1" etcd-1 cairn-3 etcd-3; do
			rows=$(jq -r --arg t "$t" --arg cases "$PLOT_CASES" \
				'select(.target == $t and (.case as $c | $cases | split(" ") | index($c)) and .rps) | "\(.clients) \(.rps) \(.p99_ms)"' "$RESULTS" | sort -n)
			[ -n "$rows" ] || continue
			{
				echo "# $t"
				echo "$rows"
				printf '\n\n'
			} >>"$PLOT_DATA"
			SERIES+=("$t")
		done
		if [ "${#SERIES[@]}" -gt 0 ]; then
			plots_rps="" plots_p99=""
			for i in "${!SERIES[@]}"; do
				title=${SERIES[i]}
				case $title in
				cairn-1 | given) title="Cairn, 1 member" ;; etcd-1) title="etcd, 1 member" ;;
				cairn-3) title="Cairn, 3 members" ;; etcd-3) title="etcd, 3 members" ;;
				esac
				plots_rps="$plots_rps${plots_rps:+, }'$PLOT_DATA' index $i using 1:2 with linespoints lw 2 pt 7 title '$title'"
				plots_p99="$plots_p99${plots_p99:+, }'$PLOT_DATA' index $i using 1:3 with linespoints lw 2 pt 7 title '$title'"
			done
			gnuplot <<EOF || log "gnuplot failed: no plot"
set terminal pngcairo size 1200,480 font ",11"
set output '$OUT/$PNG'
set multiplot layout 1,2 title "put, 256-byte values, $MODE mode ($STARTED)"
set logscale x 2
set xrange [0.8:320]
set xtics (1, 4, 16, 64, 256)
set xlabel "clients"
set grid
set key top left
set ylabel "requests/s"
set yrange [0:*]
set title "throughput"
plot $plots_rps
set ylabel "p99 latency (ms)"
set title "p99 latency"
plot $plots_p99
unset multiplot
EOF
			log "wrote $OUT/$PNG"
		fi
	fi
}

if [ -n "$REPORT_FROM" ]; then
	WORK=$(cd "$REPORT_FROM" && pwd)
	for f in results.jsonl env.json cases.json; do
		[ -f "$WORK/$f" ] || die "$REPORT_FROM is not a work directory kept by --keep (no $f)"
	done
	write_report
	exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
RESULTS=$WORK/results.jsonl
mkdir -p "$WORK/bin" "$WORK/out" "$WORK/data" "$WORK/log"
: >"$RESULTS"
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- building

log "building the benchmark tool"
(cd "$ROOT" && go build -o "$WORK/bin/benchmark" ./cmd/benchmark)
BENCH=$WORK/bin/benchmark

if [ -z "$GIVEN" ]; then
	if [ -n "$CAIRN_BIN" ]; then
		cp "$CAIRN_BIN" "$WORK/bin/cairn"
	else
		log "building Cairn (./cmd/etcd)"
		(cd "$ROOT" && go build -o "$WORK/bin/cairn" ./cmd/etcd)
	fi
fi
if [ -n "$GIVEN" ]; then
	CAIRN_DESC="the cluster at $GIVEN"
else
	CAIRN_DESC="Cairn $("$WORK/bin/cairn" --version 2>/dev/null | awk -F': ' '/Cairn Version/{print $2}')"
fi
if [ -n "$GIVEN" ]; then
	:
elif [ -n "$CAIRN_LABEL" ]; then
	CAIRN_DESC="$CAIRN_DESC, $CAIRN_LABEL"
elif git -C "$ROOT" rev-parse --short HEAD >/dev/null 2>&1 && [ -z "$CAIRN_BIN" ]; then
	CAIRN_DESC="$CAIRN_DESC, commit $(git -C "$ROOT" rev-parse --short HEAD)"
	if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		CAIRN_DESC="$CAIRN_DESC plus uncommitted changes"
	fi
fi

# build_etcd builds the reference etcd in a scratch module outside the
# repository; the repository's go.mod is never touched.
build_etcd() {
	if [ -n "$ETCD_BIN" ]; then
		cp "$ETCD_BIN" "$WORK/bin/etcd"
		return
	fi
	local mod=$WORK/etcd-src
	log "building reference etcd $ETCD_VERSION from the Go module proxy in $mod"
	mkdir -p "$mod"
	cat >"$mod/main.go" <<'EOF'
// Command etcd is the reference etcd server, for side-by-side benchmarks.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
	(
		cd "$mod"
		export GOWORK=off GOFLAGS=-mod=mod
		go mod init bench/etcdref >/dev/null 2>&1
		go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >"$WORK/log/etcd-build.log" 2>&1
		go build -o "$WORK/bin/etcd" . >>"$WORK/log/etcd-build.log" 2>&1
	) || die "building etcd $ETCD_VERSION failed; see $WORK/log/etcd-build.log (use --keep)"
}
if [ "$WITH_ETCD" = 1 ]; then
	build_etcd
	ETCD_DESC="etcd $("$WORK/bin/etcd" --version | awk -F': ' '/etcd Version/{print $2}')"
fi

# ---------------------------------------------------------------- servers

USED_PORTS=" "
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports are drawn below the kernel's ephemeral range: a port inside it can be
# taken by an outgoing connection (the load tool's) between the check that
# it is free and the member binding it.
PORT_LO=10000 PORT_HI=32768
if read -r first _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && [ "${first:-0}" -ge 11000 ]; then
	PORT_HI=$first
else
	PORT_LO=20000
fi
# pick_port sets PORT to a free port not handed out before (no subshell, so
# that USED_PORTS remembers it).
pick_port() {
	local p
	while :; do
		p=$((PORT_LO + (RANDOM * 32768 + RANDOM) % (PORT_HI - PORT_LO)))
		case $USED_PORTS in *" $p "*) continue ;; esac
		if port_free "$p"; then
			USED_PORTS="$USED_PORTS$p "
			PORT=$p
			return
		fi
	done
}

declare -A EPS MEMBERS # target -> endpoints; target -> "bin|dir|log|pid|cport|pport|cluster" per member, ';'-joined

# start_member runs one member in the background of this shell (so that it
# can be waited for) and sets MEMBER_PID.
start_member() { # bin name dir log cport pport initial-cluster token
	"$1" --name "$2" --data-dir "$3" \
		--listen-client-urls "http://127.0.0.1:$5" --advertise-client-urls "http://127.0.0.1:$5" \
		--listen-peer-urls "http://127.0.0.1:$6" --initial-advertise-peer-urls "http://127.0.0.1:$6" \
		--initial-cluster "$7" --initial-cluster-token "$8" --initial-cluster-state new \
		>>"$4" 2>&1 &
	MEMBER_PID=$!
	PIDS+=("$MEMBER_PID")
}

# last_words prints what a dead member logged last: the error of its last
# JSON line, or the line.
last_words() {
	local line
	line=$(grep -v '^\s*$' "$1" | tail -n1)
	jq -r '[.msg, .error] | map(select(. != null)) | join(": ")' <<<"$line" 2>/dev/null || echo "$line"
}

# start_cluster starts n fresh members of target with bin and waits until
# the cluster serves a linearizable read. It returns non-zero, with the
# reason in SKIP_REASON, when a member exits or the cluster is not ready
# within a minute.
start_cluster() { # target bin n
	local target=$1 bin=$2 n=$3 i cluster="" eps="" spec="" pid
	local -a cports pports pids
	for ((i = 1; i <= n; i++)); do
		pick_port
		cports[i]=$PORT
		pick_port
		pports[i]=$PORT
		cluster="$cluster${cluster:+,}m$i=http://127.0.0.1:${pports[i]}"
		eps="$eps${eps:+,}127.0.0.1:${cports[i]}"
	done
	for ((i = 1; i <= n; i++)); do
		local dir=$WORK/data/$target-m$i log=$WORK/log/$target-m$i.log
		rm -rf "$dir"
		start_member "$bin" "m$i" "$dir" "$log" "${cports[i]}" "${pports[i]}" "$cluster" "bench-$target"
		pid=$MEMBER_PID
		pids[i]=$pid
		spec="$spec${spec:+;}$bin|$dir|$log|$pid|${cports[i]}|${pports[i]}|$cluster"
	done
	EPS[$target]=$eps
	MEMBERS[$target]=$spec
	local deadline=$((SECONDS + 60))
	while :; do
		for ((i = 1; i <= n; i++)); do
			if ! kill -0 "${pids[i]}" 2>/dev/null; then
				SKIP_REASON="member m$i exited: $(last_words "$WORK/log/$target-m$i.log")"
				stop_target "$target"
				return 1
			fi
		done
		if "$BENCH" --endpoints "$eps" --wait-ready 1s range health --total 1 >/dev/null 2>&1; then
			return 0
		fi
		if [ $SECONDS -ge $deadline ]; then
			SKIP_REASON="not serving linearizable reads within 60s"
			stop_target "$target"
			return 1
		fi
	done
}

# stop_target stops every member of target and waits for them.
stop_target() {
	local m pid
	local -a specs
	IFS=';' read -ra specs <<<"${MEMBERS[$1]}"
	for m in "${specs[@]}"; do
		pid=$(cut -d'|' -f4 <<<"$m")
		kill "$pid" 2>/dev/null || true
	done
	for m in "${specs[@]}"; do
		pid=$(cut -d'|' -f4 <<<"$m")
		wait "$pid" 2>/dev/null || true
	done
}

# target_cpu_ms prints the CPU time (user and system, in ms) the members of
# target have used so far; nothing for endpoints given on the command line.
target_cpu_ms() {
	local m pid ticks=0
	local -a specs
	IFS=';' read -ra specs <<<"${MEMBERS[$1]:-}"
	[ ${#specs[@]} -gt 0 ] || return 0
	for m in "${specs[@]}"; do
		pid=$(cut -d'|' -f4 <<<"$m")
		[ -r "/proc/$pid/stat" ] || return 0
		ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
	done
	echo $((ticks * 1000 / $(getconf CLK_TCK)))
}

# member_pid prints the pid of a single-member target.
member_pid() { cut -d'|' -f4 <<<"${MEMBERS[$1]}"; }

# ---------------------------------------------------------------- cases

# Case totals are given for quick mode; the full suite runs ten times as
# many. BENCH_SCALE (a percentage of the quick totals) overrides both.
if [ "$QUICK" = 1 ]; then SCALE=100; else SCALE=1000; fi
SCALE=${BENCH_SCALE:-$SCALE}
S() { echo $(($1 * SCALE / 100 > 0 ? $1 * SCALE / 100 : 1)); }
MODE=$([ "$QUICK" = 1 ] && echo quick || echo full)

# Each case: name|clients|conns|description|benchmark arguments.
CASES=(
	"put-c1|1|1|put, 1 client|put --total $(S 2000) --key-space-size 100000 --val-size 256"
	"put-c4|4|4|put, 4 clients|put --total $(S 4000) --key-space-size 100000 --val-size 256"
	"put-c16|16|16|put, 16 clients|put --total $(S 10000) --key-space-size 100000 --val-size 256"
	"put-c64|64|16|put, 64 clients / 16 conns|put --total $(S 20000) --key-space-size 100000 --val-size 256"
	"put-c256|256|16|put, 256 clients / 16 conns|put --total $(S 40000) --key-space-size 100000 --val-size 256"
	"get-l|16|16|linearizable get, 16 clients|range 00000001 --consistency l --total $(S 20000)"
	"get-s|16|16|serializable get, 16 clients|range 00000001 --consistency s --total $(S 20000)"
	"range-1000|16|16|range of a 1000-key prefix, 16 clients|range 00000 00001 --total $(S 1000)"
	"txn-put|16|16|txn of 10 puts, 16 clients|txn-put --txn-ops 10 --total $(S 2000) --key-space-size 100000 --val-size 256"
	"watch-1000|16|16|watch fan-out to 1000 watchers (events/s)|watch --streams 10 --watch-per-stream 100 --put-total $(S 200) --val-size 256 --key-size 8"
)

# run_case runs one case against target and appends its JSON line, with
# the target and case, to the results.
run_case() { # target spec
	local target=$1 name clients conns args out
	IFS='|' read -r name clients conns _ args <<<"$2"
	out=$WORK/out/$target.$name
	local cpu0 cpu1 cpu=null
	cpu0=$(target_cpu_ms "$target")
	# shellcheck disable=SC2086 # args is a word list on purpose
	if "$BENCH" --endpoints "${EPS[$target]}" --clients "$clients" --conns "$conns" $args >"$out.txt" 2>"$out.err"; then
		cpu1=$(target_cpu_ms "$target")
		if [ -n "$cpu0" ] && [ -n "$cpu1" ]; then cpu=$((cpu1 - cpu0)); fi
		tail -n1 "$out.txt" | jq -c --arg t "$target" --arg c "$name" --argjson cl "$clients" --argjson co "$conns" --argjson cpu "$cpu" \
			'. + {target: $t, case: $c, clients: $cl, conns: $co, cpu_ms: $cpu}' >>"$RESULTS"
		log "  $(printf '%-10s %-11s' "$target" "$name") $(tail -n1 "$out.txt" | jq -r '"\(.rps) req/s  p50 \(.p50_ms) ms  p99 \(.p99_ms) ms  errors \(.errors)"')"
	else
		local why
		why=$(grep '^Error:' "$out.err" | tail -n1)
		log "  $(printf '%-10s %-11s' "$target" "$name") FAILED: $why"
		jq -nc --arg t "$target" --arg c "$name" --arg e "${why#Error: }" '{target: $t, case: $c, failed: $e}' >>"$RESULTS"
	fi
}

# prepare writes the 1000 keys the range case reads (and the key the gets
# read) to target.
prepare() {
	"$BENCH" --endpoints "${EPS[$1]}" --clients 16 --conns 16 put --total 1000 --sequential-keys \
		--key-space-size 1000 --val-size 256 >"$WORK/out/$1.prepare.txt" 2>&1 ||
		log "  preparing $1 failed: $(grep '^Error:' "$WORK/out/$1.prepare.txt" | tail -n1)"
}

# run_suite runs every case on each of the targets, alternating targets.
run_suite() {
	local spec t
	for t in "$@"; do prepare "$t"; done
	for spec in "${CASES[@]}"; do
		for t in "$@"; do run_case "$t" "$spec"; done
	done
}

note() { # target kind text: a skipped part, shown in BENCHMARKS.md
	jq -nc --arg t "$1" --arg k "$2" --arg m "$3" '{target: $t, note: $k, text: $m}' >>"$RESULTS"
}

rss_kib() { awk -v f="$2" '$1 == f":" {print $2}' "/proc/$1/status"; }

# memory_test loads LOAD_KEYS keys of 256 B into a fresh member, reads its
# RSS and data dir size, then restarts it and times the first served
# linearizable read.
memory_test() { # target bin
	local target=$1 bin=$2 out=$WORK/out/$1.load pid dir t0 t1 restarts i times=()
	if ! start_cluster "$target" "$bin" 1; then
		log "  $target: memory test skipped: $SKIP_REASON"
		note "$target" memory "$SKIP_REASON"
		return
	fi
	pid=$(member_pid "$target")
	local load_args
	if [ "$QUICK" = 1 ]; then
		load_args="--clients 16 --conns 16 txn-put --txn-ops 100 --total $((LOAD_KEYS / 100)) --sequential-keys --key-space-size $LOAD_KEYS --val-size 256"
	else
		load_args="--clients 256 --conns 16 put --total $LOAD_KEYS --sequential-keys --key-space-size $LOAD_KEYS --val-size 256"
	fi
	log "  $target: loading $LOAD_KEYS keys of 256 B ($load_args)"
	# shellcheck disable=SC2086
	if ! "$BENCH" --endpoints "${EPS[$target]}" $load_args >"$out.txt" 2>"$out.err"; then
		log "  $target: load failed: $(grep '^Error:' "$out.err" | tail -n1)"
		note "$target" memory "loading failed: $(grep '^Error:' "$out.err" | tail -n1)"
		stop_target "$target"
		return
	fi
	local rss hwm du_kib keys_per_s
	rss=$(rss_kib "$pid" VmRSS)
	hwm=$(rss_kib "$pid" VmHWM)
	dir=$(cut -d'|' -f2 <<<"${MEMBERS[$target]}")
	du_kib=$(du -sk "$dir" | cut -f1)
	keys_per_s=$(tail -n1 "$out.txt" | jq --argjson k "$LOAD_KEYS" '$k / .duration_s | floor')
	log "  $target: RSS $((rss / 1024)) MiB (peak $((hwm / 1024)) MiB), data dir $((du_kib / 1024)) MiB, $keys_per_s keys/s"

	if [ "$QUICK" = 1 ]; then restarts=1; else restarts=3; fi
	local rss_after=0
	for ((i = 1; i <= restarts; i++)); do
		stop_target "$target"
		local b d l cp pp cl
		IFS='|' read -r b d l _ cp pp cl <<<"${MEMBERS[$target]}"
		t0=$(date +%s%N)
		start_member "$b" m1 "$d" "$l" "$cp" "$pp" "$cl" "bench-$target"
		pid=$MEMBER_PID
		MEMBERS[$target]="$b|$d|$l|$pid|$cp|$pp|$cl"
		if ! "$BENCH" --endpoints "${EPS[$target]}" --wait-ready 300s range 00000001 --total 1 >/dev/null 2>"$out.restart.err"; then
			log "  $target: restart failed: $(grep '^Error:' "$out.restart.err" | tail -n1)"
			note "$target" memory "restart failed"
			stop_target "$target"
			return
		fi
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000000)))
		rss_after=$(rss_kib "$pid" VmRSS)
		log "  $target: restart $i: first linearizable read after ${times[-1]} ms, RSS $((rss_after / 1024)) MiB"
	done
	local median
	median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	jq -nc --arg t "$target" --argjson keys "$LOAD_KEYS" --argjson kps "$keys_per_s" --argjson rss "$rss" --argjson hwm "$hwm" \
		--argjson du "$du_kib" --argjson restart "$median" --argjson rss2 "$rss_after" --arg how "$load_args" \
		'{target: $t, case: "memory", keys: $keys, load_keys_per_s: $kps, rss_kib: $rss, hwm_kib: $hwm, du_kib: $du,
		  restart_ms: $restart, rss_after_restart_kib: $rss2, load: $how}' >>"$RESULTS"
	stop_target "$target"
}

# ---------------------------------------------------------------- run

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
log "mode: $MODE; work directory $WORK"

SINGLE=() CLUSTERED=()
if [ -n "$GIVEN" ]; then
	EPS[given]=$GIVEN
	SINGLE+=(given)
else
	log "starting a fresh single Cairn member"
	start_cluster cairn-1 "$WORK/bin/cairn" 1 || die "Cairn did not start: $SKIP_REASON"
	SINGLE+=(cairn-1)
fi
if [ "$WITH_ETCD" = 1 ]; then
	log "starting a fresh single etcd member"
	start_cluster etcd-1 "$WORK/bin/etcd" 1 || die "etcd did not start: $SKIP_REASON"
	SINGLE+=(etcd-1)
fi
log "single member: ${SINGLE[*]}"
run_suite "${SINGLE[@]}"
for t in "${SINGLE[@]}"; do [ "$t" = given ] || stop_target "$t"; done

if [ -z "$GIVEN" ] && [ "$CLUSTER" = 1 ]; then
	log "starting a fresh 3-member Cairn cluster"
	if start_cluster cairn-3 "$WORK/bin/cairn" 3; then
		CLUSTERED+=(cairn-3)
		if [ "$WITH_ETCD" = 1 ]; then
			if start_cluster etcd-3 "$WORK/bin/etcd" 3; then
				CLUSTERED+=(etcd-3)
			else
				log "etcd 3-member cluster skipped: $SKIP_REASON"
				note etcd-3 cluster "$SKIP_REASON"
			fi
		fi
		log "3-member clusters: ${CLUSTERED[*]}"
		run_suite "${CLUSTERED[@]}"
		for t in "${CLUSTERED[@]}"; do stop_target "$t"; done
	else
		log "3-member Cairn cluster skipped: $SKIP_REASON"
		note cairn-3 cluster "$SKIP_REASON"
	fi
fi

if [ -z "$GIVEN" ] && [ "$MEMORY" = 1 ]; then
	log "memory and restart with $LOAD_KEYS keys"
	memory_test cairn-mem "$WORK/bin/cairn"
	if [ "$WITH_ETCD" = 1 ]; then
		memory_test etcd-mem "$WORK/bin/etcd"
	fi
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

BENCH_ENV=$(jq -n --arg started "$STARTED" --arg mode "$MODE" --arg args "$ARGS" \
	--arg cpu "$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)" --arg ncpu "$(nproc)" \
	--arg mem "$(awk '/MemTotal/{printf "%.0f", $2/1048576}' /proc/meminfo)" --arg kernel "$(uname -sr)" \
	--arg gov "$(go env GOVERSION)" --arg cairn "$CAIRN_DESC" --arg etcd "${ETCD_DESC:-}" \
	--arg load0 "$LOAD_START" --arg load1 "$LOAD_END" --arg keys "$LOAD_KEYS" '$ARGS.named')

echo "$BENCH_ENV" >"$WORK/env.json"
printf '%s\n' "${CASES[@]}" | jq -Rn '[inputs | split("|") | {name: .[0], clients: .[1], conns: .[2], desc: .[3], args: .[4]}]' >"$WORK/cases.json"
write_report
