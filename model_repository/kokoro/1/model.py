"""Triton Python model: batched Kokoro speech synthesis.

Each request carries one utterance's phoneme ids, a style vector and optionally speed and seed. The
dynamic batcher joins requests of different lengths (`allow_ragged_batch`); `kokoro_core.batching` pads them,
runs the text stage, aligns, runs the decoder stage and returns each item's own audio.

The `runner` parameter picks where the two stages run: `onnxruntime` in this process (the CPU target;
the int8 decoder where the export wrote one, see `kokoro_core.stages.cpu_stages`), `triton`, calling the
`kokoro_text` and `kokoro_decoder` models through BLS (the GPU target), or `torch`, the batched modules in
PyTorch in this process, on CUDA when present (`kokoro_core.torch_stages`).
"""
import json
from pathlib import Path

import numpy as np
import triton_python_backend_utils as pb_utils

from kokoro_core.batching import KokoroBatch, Utterance, validate, vocabulary_size
from kokoro_core.contract import ASSETS, DECODER_OUTPUTS, TEXT_OUTPUTS
from kokoro_core.stages import cpu_stages

# One number per item: the stage graphs take and give them as [batch], so the GPU stage configs declare them
# `dims: [1]` with `reshape: { shape: [] }`. Triton checks a request against `dims` before reshaping, so they
# travel as [batch, 1]; outputs come back as [batch, 1] too.
PER_ITEM_SCALARS = frozenset({"token_lengths", "speed", "frame_lengths", "seed", "audio_lengths"})


def to_stage_model(name, array):
    return array.reshape(-1, 1) if name in PER_ITEM_SCALARS else array


def from_stage_model(name, array):
    return array.reshape(-1) if name in PER_ITEM_SCALARS else array


def bls_stage(model_name, output_names):
    """A stage served by another Triton model."""
    def run(feeds):
        inputs = [pb_utils.Tensor(name, to_stage_model(name, array)) for name, array in feeds.items()]
        response = pb_utils.InferenceRequest(model_name=model_name, requested_output_names=list(output_names),
                                             inputs=inputs).exec()
        if response.has_error():
            raise RuntimeError(f"{model_name}: {response.error().message()}")
        return [from_stage_model(name, pb_utils.get_output_tensor_by_name(response, name).as_numpy())
                for name in output_names]
    return run


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
        model_dir = Path(args["model_repository"])
        runner = params.get("runner", "onnxruntime")
        threads = int(params.get("intra_op_threads", "0"))
        if runner == "onnxruntime":
            stages = cpu_stages(model_dir / args["model_version"], threads)
        elif runner == "triton":
            stages = (bls_stage(params["text_model"], TEXT_OUTPUTS),
                      bls_stage(params["decoder_model"], DECODER_OUTPUTS))
        elif runner == "torch":
            from kokoro_core.torch_stages import TorchStages  # PyTorch, which the other runners need not import

            stages = TorchStages(model_dir.parent / ASSETS, precision=params.get("precision", "fp32"), threads=threads,
                                 graph_max_items=int(params.get("cuda_graph_max_items", "0"))).stages
        else:
            raise pb_utils.TritonModelException(f"unknown runner '{runner}' (onnxruntime, triton or torch)")
        self.n_token = vocabulary_size(model_dir.parent / ASSETS)
        self.batch = KokoroBatch(*stages, max_items=int(params.get("max_items_per_pass", "16")),
                                 length_growth=float(params.get("pass_length_growth", "0")) or None)

    def execute(self, requests):
        responses = [None] * len(requests)
        accepted = []
        for i, request in enumerate(requests):
            try:
                speech_request = self._parse(request)
                validate(speech_request, self.n_token)
                accepted.append((i, speech_request))
            except ValueError as e:
                error = pb_utils.TritonError(str(e), pb_utils.TritonError.INVALID_ARG)
                responses[i] = pb_utils.InferenceResponse(error=error)
        if accepted:
            try:
                speeches = self.batch.synthesize([r for _, r in accepted])
            except Exception as e:  # a failed batch fails its requests, not the server
                error = pb_utils.TritonError(f"synthesis failed: {e}", pb_utils.TritonError.INTERNAL)
                speeches = [error] * len(accepted)
            for (i, _), speech in zip(accepted, speeches, strict=True):
                responses[i] = self._response(speech)
        return responses

    @staticmethod
    def _parse(request):
        def optional(name, default):
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            return default if tensor is None else tensor.as_numpy().reshape(-1)[0].item()
        token_ids = pb_utils.get_input_tensor_by_name(request, "token_ids").as_numpy()
        style = pb_utils.get_input_tensor_by_name(request, "style").as_numpy()
        return Utterance(token_ids=token_ids.reshape(-1).astype(np.int64), style=style.reshape(-1),
                             speed=float(optional("speed", 1.0)), seed=int(optional("seed", 0)))

    @staticmethod
    def _response(speech):
        if isinstance(speech, pb_utils.TritonError):
            return pb_utils.InferenceResponse(error=speech)
        return pb_utils.InferenceResponse(output_tensors=[
            pb_utils.Tensor("audio", speech.samples_24k[None, :].astype(np.float32)),
            pb_utils.Tensor("durations", speech.durations[None, :].astype(np.int64))])
