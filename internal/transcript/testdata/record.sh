#!/bin/sh
# Records testdata/sim, the transcript the replay test pins the clients to:
# bulkprov doctor --record against both simulators, seeded with
# samples/tenant.xlsx and served over TLS. Run by `go generate
# ./internal/transcript` (or this script, from anywhere). A transcript
# recorded the same way from a real server replaces it as is.
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
out="$root/internal/transcript/testdata/sim"
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$root"
go build -o "$tmp/bulkprov" ./cmd/bulkprov
export BULKPROV_STATE_DIR="$tmp/state" XDG_STATE_HOME="$tmp/xdg"
export BULKPROV_VOSS_USER=transcript-admin BULKPROV_VOSS_PASSWORD=Transcript-Voss-Secret-1
export BULKPROV_CUPI_USER=transcript-admin BULKPROV_CUPI_PASSWORD=Transcript-Cupi-Secret-2
"$tmp/bulkprov" sim --listen 127.0.0.1:0 --tls-ca-out "$tmp/ca.pem" --seed samples/tenant.xlsx >"$tmp/urls" 2>"$tmp/sim.err" &
pid=$!
i=0
until grep -q '^cupi=' "$tmp/urls" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 600 ] || ! kill -0 "$pid" 2>/dev/null; then
		cat "$tmp/sim.err" >&2
		exit 1
	fi
	sleep 0.1
done
url=$(sed -n 's/^voss=//p' "$tmp/urls")
rm -rf "$out"
"$tmp/bulkprov" doctor --voss "$url" --cupi "$url" --ca-file "$tmp/ca.pem" --config samples/config.json --record "$out"
# The secrets this script knows must not be in what it recorded.
if grep -r -l -e Transcript-Voss-Secret-1 -e Transcript-Cupi-Secret-2 -e transcript-admin "$out"; then
	echo "record.sh: a secret is in the recording" >&2
	exit 1
fi
