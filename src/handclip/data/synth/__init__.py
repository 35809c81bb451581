"""The synthetic hand renderer, the default data source: WebXR hand mesh, random poses, named visual domains.

Importing the package registers the datasets 'synth' (rendered on the fly) and 'synth_folder'
(an exported folder), 'synth_cache' (pre-rendered for training), 'synth_full' (full frames for a hand
detector) and 'synth_full_folder' (their export); see handclip.data.synth.dataset and handclip.data.synth.export.
"""

from handclip.data.synth import cache, dataset, folder, full  # noqa: F401  (registers the datasets)
