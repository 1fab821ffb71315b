"""OpenAI-compatible text-to-speech API over the Kokoro model served by Triton.

request -> schemas -> text -> phonemes -> tokens -> triton_client -> samples -> audio -> response
"""
