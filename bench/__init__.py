"""Measurements of the running product: the load generator, `make bench` and `make soak`."""
from kokoro_core.stages import cap_onednn_isa

# The in-process reference must run the served int8 decoder's kernels, and oneDNN reads its cap at its first
# use, which the KModel baseline makes before the served graphs load.
cap_onednn_isa()
