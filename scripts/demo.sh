#!/bin/sh
# scripts/demo.sh - `make demo`: a GPU with a double-bit ECC error (XID 48) on the
# lab node n42, repaired end to end by `rbx run gpu-fault --node n42 --lab --yes`.
set -eu
cd "$(dirname "$0")/.."
export RBX_STATE_DIR="${RBX_STATE_DIR:-$(pwd)/build/demo-state}"
RBX_RUNBOOKS="$(pwd)/runbooks"
export RBX_RUNBOOKS
rbx=./rbx

echo "== the scene: XID 48 (double-bit ECC) on GPU 3 of the lab node n42"
$rbx lab reset n42
$rbx lab inject n42 xid=48 gpu=3
$rbx lab show n42
echo
echo "== rbx run gpu-fault --node n42 --lab --yes"
rc=0
$rbx run gpu-fault --node n42 --lab --yes || rc=$?
echo
echo "== afterwards"
$rbx lab show n42
echo
echo "Try the other endings (see README.md):"
echo "  $rbx lab reset n42 && $rbx lab inject n42 xid=79 gpu=3 persistent && $rbx run gpu-fault --node n42 --lab --yes   # RMA path"
echo "  $rbx lab reset n42 && $rbx lab inject n42 xid=48 gpu=3 dcgm=fail && $rbx run gpu-fault --node n42 --lab       # rollback, FAILED"
echo "(state for this demo: RBX_STATE_DIR=$RBX_STATE_DIR)"
exit "$rc"
