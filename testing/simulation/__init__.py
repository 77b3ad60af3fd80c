"""Simulated workflow logs with planted regularities and a ground-truth manifest."""

from testing.simulation.corpus import generate_knowledge_base
from testing.simulation.groundtruth import MANIFEST_NAME, GroundTruth, Regularity
from testing.simulation.scenario import Scenario
from testing.simulation.workload import simulate

__all__ = [
    "MANIFEST_NAME",
    "GroundTruth",
    "Regularity",
    "Scenario",
    "generate_knowledge_base",
    "simulate",
]
