"""The fulfilment simulator: locations and carriers answering the pipeline's fulfilment requests.

`decide` is the pure part (what a location and its carrier do with a parcel, from a seed and
the request); `service` the process (consume, schedule, produce); `cli` its command,
`orderstream simulate`.
"""
