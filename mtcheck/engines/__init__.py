"""Execution engines of the streaming job runner other than this machine's processes.

:func:`mtcheck.jobs.run_job` chunks, keys, resumes and writes a batch itself;
an engine only turns the chunks into :class:`~mtcheck.jobs.ChunkOutcome`
objects, in input order. ``local`` (the built-in one, in :mod:`mtcheck.jobs`)
scores them in this process or a process pool; :mod:`mtcheck.engines.ray_engine`
scores them as a Ray Data job. Engines import their framework only when they
run, so ``import mtcheck.jobs`` stays light.
"""
