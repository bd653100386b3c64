"""The chapters' experiments: what each chapter runs, as functions of its parameters.

One module per chapter (``mtrl.studies.training`` and so on; the Kernel regime chapter's bridge
to the pretraining chapters has its own, ``mtrl.studies.kernel_bridge``). Each function takes
the chapter's base :class:`mtrl.Config` and the values it sweeps, runs every point through the
cached :func:`mtrl.sweep` (or :func:`mtrl.run`), and returns a tidy table (:func:`mtrl.tidy`)
with the columns that the chapter's figures (:mod:`mtrl.plotting`) and checks read. This layer
stores nothing in the result cache, so it is outside the cache's code hash: a change here
changes what a chapter shows, never a cached result.
"""
