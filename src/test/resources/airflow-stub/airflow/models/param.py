class Param:
    def __init__(self, default=None, **schema):
        self.value = default
        self.schema = schema
