"""Simulator of Glance Networks' Activity Service (ASMX JSON and form-POST) for tests and demos."""

from .app import create_app
from .faults import Faults, RequestRecord
from .server import ServerThread, serve_in_thread
from .simulator import PartnerSpec, Simulator

__all__ = [
    "Faults",
    "PartnerSpec",
    "RequestRecord",
    "ServerThread",
    "Simulator",
    "create_app",
    "serve_in_thread",
]
