"""Reading text: cleaning, SSML, normalization, languages, G2P, chunks, word timing, captions (no web stack)."""
