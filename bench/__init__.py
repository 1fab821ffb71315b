"""Measurements of the running product: the load generator, `make bench` and `make soak`."""
from export.parity import load_kokoro_batch

# The in-process reference must run the served int8 decoder's kernels, and oneDNN reads its cap at its first
# use, which the KModel baseline makes before the served graphs load.
load_kokoro_batch().cap_onednn_isa()
