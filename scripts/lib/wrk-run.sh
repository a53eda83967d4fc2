# Shared by the benchmark scripts that measure routes of one Gatehouse with wrk. Needs WORK (a
# scratch directory), GATEHOUSE_PID, CONNS, DURATION, HOST (the API's Host header) and DP_PORT.

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run NAME PATH [wrk args...]: req/s, p99 and the CPU Gatehouse spent per request on
# http://127.0.0.1:$DP_PORT/PATH; the req/s also go to $WORK/NAME.rps.
run() {
    local name=$1 path=$2; shift 2
    local before; before=$(cpu_ticks "$GATEHOUSE_PID")
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "Host: $HOST" "$@" "http://127.0.0.1:$DP_PORT/$path" > "$WORK/$name.txt"
    local used=$(( $(cpu_ticks "$GATEHOUSE_PID") - before ))
    local rps requests p99 non2xx
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$name.txt")
    requests=$(awk '/requests in/ {print $1}' "$WORK/$name.txt")
    p99=$(awk '$1=="99%" {print $2}' "$WORK/$name.txt")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/$name.txt")
    local cpu; cpu=$(awk -v t="$used" -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    printf '%-14s %10s req/s   p99 %8s   %6s us CPU/req%s\n' "$name" "$rps" "$p99" "$cpu" "${non2xx:+   NON-2XX: $non2xx}"
    echo "$rps" > "$WORK/$name.rps"
}

# median FILE: the median of the numbers in FILE, one a line.
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
