"""Neuroglancer: tables as precomputed annotation sources, viewer states, and the way back.

Pure functions only (no database, no HTTP): the engine, the server and the client build on
them.

- `layout`: which geometry a schema draws (a point, or a line from pre to post plus its
  centre) and which properties its fields become;
- `spatial`: the multi-level spatial index: a row's level from a hash of its id, its cell
  from its position (one 64-bit key per row), the grid of a table;
- `encoding`: the binary annotation encodings and the ``info`` JSON;
- `grants`: signed, expiring source paths that act as one user;
- `state`: viewer states (layers, coordinate space, colours and legend) and their URLs;
- `links`: the address of a state on a viewer, and whether others can reach a source.

Reading a state back into rows is ingest's work (`anno_core.ingest.ng_import`).
"""
