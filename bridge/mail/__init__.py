"""The mail room: administrators' alerts and digests, managers' reply digests.

``transport`` is the only module that imports ``smtplib``; ``digests`` and ``manager_digest``
render text and HTML (pure); ``notify`` decides what to send and when.
"""
