"""Evaluation worlds the learning engine was not calibrated on, built from the corpus when run."""

from testing.worlds.corpus import CorpusMissing
from testing.worlds.generate import generate, write_repo
from testing.worlds.model import World
from testing.worlds.plans import DEVELOPMENT_WORLDS, WORLD_NAMES, load_world

__all__ = [
    "DEVELOPMENT_WORLDS",
    "WORLD_NAMES",
    "CorpusMissing",
    "World",
    "generate",
    "load_world",
    "write_repo",
]
