# Sourced by bench/icount.sh and bench/rate-from.sh: `count NAME ARGS…`
# runs `$bin -q run ARGS… --out $out/NAME` under valgrind and prints its
# instructions in total and per simulated request (every arrival, warm-up
# included: summary.json counts after it only). Needs $bin and $out.
count() {
  local name=$1; shift
  local ir arrived
  ir=$(valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    "$bin" -q run "$@" --out "$out/$name" 2>&1 >/dev/null | sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,)
  arrived=$(python3 -c "import csv;print(sum(int(r['arrivals']) for r in csv.DictReader(open('$out/$name/timeseries.csv'))))")
  python3 -c "print(f'{\"$name\":<28} {$ir / 1e6:10.1f} M instructions  {$ir / $arrived:8.0f} per request')"
}
