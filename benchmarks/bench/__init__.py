"""`orderstream bench`: orderstream against the limit of its stack and a plain Faust peer.

One run, one broker, one generated load: each contender (`contenders`) gets the same raw
records on its own topic prefix; `measure` paces them in and times every order from its
first raw record produced to its outcome consumed; `report` writes the JSON and the chart.
"""
