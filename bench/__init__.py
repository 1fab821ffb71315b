"""Measurements of the running product: the load generator, `make bench` and `make soak`."""
import os

# The served int8 decoder caps oneDNN at AVX512-VNNI in Triton's process (kokoro_batch.inductor_decoder_stage).
# The in-process reference must run the same kernels, and oneDNN reads the cap once, before torch first uses it.
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI")
