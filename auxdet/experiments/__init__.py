"""CPU-size experiments on the synthetic data: plans, one trainer, one cache, and what runs on them.

Building blocks (none builds a model at import):

* :mod:`~auxdet.experiments.plan` — ``RunPlan`` (data + training budget), the named budgets
  (``BUDGETS``, ``ABLATION_BUDGETS``), ``cfg_options`` (the ``--cfg-options`` of the CPU-tiny configs)
  and ``run_fingerprint``;
* :mod:`~auxdet.experiments.trainer` — the ``Trainer`` protocol, the engine's ``EngineTrainer``, jobs
  side by side (``run_trainings``) and cached in their work dirs (``train_cached``);
* :mod:`~auxdet.experiments.cache` — ``fingerprint`` (the one hash), ``ResultCache`` (CSV rows keyed by
  any columns, valid while their fingerprint matches), finished-run manifests, ``ExperimentError``.

What runs on them: :mod:`~auxdet.experiments.demo` (``auxdet demo``), :mod:`~auxdet.experiments.registry`
and :mod:`~auxdet.experiments.ablation` (the measured Tab. 2–7 rows, read from ``configs/ablations``),
:mod:`~auxdet.experiments.tutorial` (notebooks 04–05).
"""
