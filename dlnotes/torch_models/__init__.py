"""The course's PyTorch models: every module in this subpackage imports torch.

``import dlnotes`` stays NumPy-only; a chapter that trains or builds a torch network asks
for it by name, e.g. ``from dlnotes.torch_models import vae``. Importing this subpackage
itself loads nothing heavy: each module is imported on demand.

* :mod:`dlnotes.torch_models.models`: LeNet-5, AlexNet, VGG-16, residual and inception
  blocks, and a shape tracer (chapter 02-convolutional-networks/05-classic-architectures).
* :mod:`dlnotes.torch_models.tacotron`: a small Tacotron 2 (03-sequence-models/05-tacotron2).
* :mod:`dlnotes.torch_models.text_models`: text classifiers and language models
  (04-language/03-language-models-and-classifiers).
* :mod:`dlnotes.torch_models.vae`: a variational autoencoder
  (05-generative-models/03-autoencoders-and-vaes).
* :mod:`dlnotes.torch_models.training`: the Adam training loop the last two share.

:mod:`dlnotes.verify` is the other module that imports torch: it compares the NumPy code
with torch's operators.
"""
__all__ = ["models", "tacotron", "text_models", "vae", "training"]
