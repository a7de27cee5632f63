#!/bin/sh
# Renders the graphs committed under docs/ (README's seed 001 Q6, seed 002's
# sigmoid, the 41-node softmax with a temperature): SVG from
# `chainrule graph`, then PNG by headless Chromium (Debian's `chromium`).
#
#   scripts/render-graphs.sh [path/to/chainrule] [out-dir]   (default: target/release/chainrule, docs)
set -e
B=${1:-target/release/chainrule}
D=$(cd "${2:-docs}" && pwd)
"$B" graph "tanh(log(1 + z*(2*x)/sin(y)))" --at x=1,y=2,z=3 -o "$D/graph-seed001-q6.svg"
"$B" graph "1/(1+exp(-x))" --at x=2 -o "$D/graph-sigmoid.svg"
"$B" graph "exp((0.2*x1 + 0.4*x2 + 0.1*x3)/t)/(exp((0.2*x1 + 0.4*x2 + 0.1*x3)/t) + exp((-0.5*x1 + 0.1*x2 + 0.3*x3)/t) + exp((0.3*x1 - 0.2*x2 + 0.2*x3)/t))" \
    --at t=2,x1=1,x2=2,x3=3 -o "$D/graph-softmax-41-nodes.svg"
for f in graph-seed001-q6 graph-sigmoid graph-softmax-41-nodes; do
    size=$(head -c 300 "$D/$f.svg" | sed -n 's/.*width="\([0-9]*\)" height="\([0-9]*\)".*/\1,\2/p')
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --screenshot="$D/$f.png" --window-size="$size" "file://$D/$f.svg" 2>/dev/null
    echo "$D/$f.png: $size"
done
