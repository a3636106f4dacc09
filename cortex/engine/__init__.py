"""The actor system behind Cortex: writer, readers, and the facades that talk to them."""
