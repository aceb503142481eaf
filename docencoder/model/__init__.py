"""The DocEncoder model: config registry, DeepEncoder stages, decoder, weights."""

from .config import ModelConfig, TokenConfig, config_names, get_config
from .docencoder import DocEncoder, DocEncoderOutput
from .weights import load_pretrained, save_pretrained

__all__ = ["DocEncoder", "DocEncoderOutput", "ModelConfig", "TokenConfig", "config_names",
           "get_config", "load_pretrained", "save_pretrained"]
