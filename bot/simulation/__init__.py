"""Simulated workflow logs with planted regularities and a ground-truth manifest."""

from bot.simulation.corpus import generate_knowledge_base
from bot.simulation.groundtruth import MANIFEST_NAME, GroundTruth, Regularity
from bot.simulation.scenario import Scenario
from bot.simulation.workload import simulate

__all__ = [
    "MANIFEST_NAME",
    "GroundTruth",
    "Regularity",
    "Scenario",
    "generate_knowledge_base",
    "simulate",
]
