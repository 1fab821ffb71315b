"""The code every part of the project shares, imported by name: the serving model's batching (`batch`), the
runtimes of its two stages in process (`stages`), and the facts they all rely on (`contract`). The Triton
model, the export, the bench and the tests all run these."""
