"""The synthetic hand renderer, the default data source: WebXR hand mesh, random poses, named visual domains.

Importing the package registers the datasets 'synth' (rendered on the fly) and 'synth_folder'
(an exported folder) and 'synth_cache' (pre-rendered for training); see handclip.data.synth.dataset and handclip.data.synth.export.
"""

from handclip.data.synth import cache, dataset, folder  # noqa: F401  (registers the datasets)
