"""The returns desk: returned parcels received unit by unit, judged, put away, refunded.

:mod:`.desk` is the station's (one scan, one transaction), :mod:`.backoffice` the desk's work
without the station (an RMA authorized ahead, a return received whole from a script), :mod:`.views`
what people read. The shapes they share are in :mod:`.shapes`.
"""
