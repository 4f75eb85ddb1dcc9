"""Simulated participants ("bots") that take a study through the real HTTP flow.

A design rehearsal and a test tool: `run_simulation(spec, n, effects=...)` sends n
bots through the app's pages (the WSGI test client of `create_app`, or a live
server's URL), answering with planted effects (`effects.py` reads them from the
command line); see `bots.py` for the answer model.
"""

from framelab.simulate.bots import SimulationError, SimulationSummary, Simulator
from framelab.simulate.effects import (
    Moderator,
    parse_effects,
    parse_moderator,
    parse_recognition,
)
from framelab.simulate.run import run_simulation
from framelab.simulate.transport import (
    FlaskTransport,
    HttpTransport,
    Reply,
    Transport,
    VirtualClock,
    simulation_start,
)

__all__ = [
    "FlaskTransport",
    "HttpTransport",
    "Moderator",
    "Reply",
    "SimulationError",
    "SimulationSummary",
    "Simulator",
    "Transport",
    "VirtualClock",
    "parse_effects",
    "parse_moderator",
    "parse_recognition",
    "run_simulation",
    "simulation_start",
]
