"""The facts the export, the Triton model, the API and the bench share, each defined here and nowhere else
(tests/test_contract.py looks for stray copies). No imports: the API's container copies this module alone.

A model repository holds the Triton model `kokoro` and, under ASSETS, what the export wrote besides the
graphs: the model config (vocabulary, `n_token`), a voice pack per voice and the export's provenance.
"""

# Upstream's release on the hub: what the weights are, and what upstream's `KModel` downloads by default.
UPSTREAM_REPO = "hexgrad/Kokoro-82M"

# Audio: the decoder's output rate, and one duration unit (a token lasts a whole number of frames).
SAMPLE_RATE = 24000
SAMPLES_PER_FRAME = 600  # 25 ms

# One utterance: phoneme ids framed by a pad id at each end, 512 positions in all.
PAD_ID = 0
MAX_PHONEMES = 510
STYLE_DIM = 256
MIN_SPEED, MAX_SPEED = 0.25, 4.0
VOICE_PACK_SHAPE = (MAX_PHONEMES, 1, STYLE_DIM)


def style_row(phonemes: int) -> int:
    """The voice pack row that styles an utterance of `phonemes` phonemes (row n - 1; longer ones take the
    last row)."""
    return min(max(phonemes, 1), MAX_PHONEMES) - 1


# The client-facing Triton model: inputs token_ids [n], style [STYLE_DIM], optional speed [1] and seed [1];
# outputs audio [samples] at SAMPLE_RATE and durations [n + 2] (frames per token, pads included).
MODEL = "kokoro"
INPUTS = ("token_ids", "style", "speed", "seed")
OUTPUTS = ("audio", "durations")

# The two exported stages (the CPU target's graph files; the GPU target's are Triton models of their own),
# and the CPU target's int8 decoder: the curves graph, then the AOTInductor-compiled vocoder.
TEXT_GRAPH, DECODER_GRAPH = "text_stage.onnx", "decoder_stage.onnx"
TEXT_INPUTS = ("token_ids", "token_lengths", "style", "speed")
TEXT_OUTPUTS = ("durations", "prosody_features", "text_features")
DECODER_INPUTS = ("prosody_frames", "text_frames", "frame_lengths", "style", "seed")
DECODER_OUTPUTS = ("audio", "audio_lengths")
CURVES_INPUTS = ("prosody_frames", "frame_lengths", "style")
CURVES_OUTPUTS = ("f0_curve", "noise_curve")
CURVES_GRAPH, INT8_VOCODER = "curves_stage.onnx", "vocoder.int8.pt2"

# The assets in a model repository (relative to it), and their files.
ASSETS = f"{MODEL}/assets"
MODEL_CONFIG = "config.json"
CHECKPOINT = "checkpoint.pth"  # the torch runner's weights, upstream's format ({component: state_dict})
VOICES = "voices"  # <voice id>.npy, float32 VOICE_PACK_SHAPE
PROVENANCE = "provenance.json"
