"""streamwise: streaming online learning for IoT sensor data.

The core package holds what every process shares: events, ports, specs, settings, features,
snapshots and telemetry. It never knows which transport or store is in use.
"""

__version__ = "0.1.0"
