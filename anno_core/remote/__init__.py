"""The remote backend: the Backend methods over HTTP, to our server or a real CAVE deployment."""
