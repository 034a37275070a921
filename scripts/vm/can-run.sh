#!/usr/bin/env bash
# scripts/vm/can-run.sh [--kernel 6.12|6.1]
# Prints nothing and exits 0 if scripts/vm/guest.sh can run here (qemu present or installable, the
# kernel package cached or downloadable); otherwise prints a one-line reason and exits 1.
# Fast (no apt calls) once `scripts/vm/guest.sh --setup` has run.
exec bash "$(dirname "${BASH_SOURCE[0]}")/guest.sh" --check "$@"
