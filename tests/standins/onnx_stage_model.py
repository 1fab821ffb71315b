"""Triton Python model standing in for an onnxruntime-backend model in tests (the pip-installed Triton has
only the Python backend): it runs the model's 1/model.onnx with ONNX Runtime on the CPU and applies the
config's `reshape` fields as the onnxruntime backend does, which the Python backend leaves to the model."""
import json
from pathlib import Path

import onnxruntime
import triton_python_backend_utils as pb_utils


def shape(dims) -> list[int]:
    return [int(d) for d in dims]


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        # name -> the shape past the batch dimension that the framework model takes or gives
        self.inputs = {t["name"]: shape(t["reshape"]["shape"]) if "reshape" in t else None for t in config["input"]}
        self.outputs = {t["name"]: shape(t["dims"]) if "reshape" in t else None for t in config["output"]}
        graph = Path(args["model_repository"]) / args["model_version"] / "model.onnx"
        self.session = onnxruntime.InferenceSession(str(graph), providers=["CPUExecutionProvider"])

    def execute(self, requests):
        return [self._answer(request) for request in requests]

    def _answer(self, request):
        feeds = {}
        for name, model_shape in self.inputs.items():
            array = pb_utils.get_input_tensor_by_name(request, name).as_numpy()
            feeds[name] = array if model_shape is None else array.reshape(len(array), *model_shape)
        results = self.session.run(list(self.outputs), feeds)
        return pb_utils.InferenceResponse(output_tensors=[
            pb_utils.Tensor(name, result if dims is None else result.reshape(len(result), *dims))
            for (name, dims), result in zip(self.outputs.items(), results, strict=True)])
