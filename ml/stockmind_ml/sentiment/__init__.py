"""News sentiment: a small supervised finance classifier (TF-IDF → logistic regression)
trained on labelled finance headlines, and the VADER lexicon as the baseline to beat.

``local`` loads the model (the registry's champion, else the artifact shipped in
``artifacts/``) and answers with numpy/scipy only; ``train`` fits, evaluates, logs and
registers it like the forecaster; ``lexicon`` is VADER with the same ``classify`` shape.
"""
