"""Pure logic: no I/O, no async, no logging. Everything here is a function of its inputs."""
