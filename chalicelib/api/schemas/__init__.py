"""Request and response models, one module per audience: the single source of validation and of the
OpenAPI document. A route imports the models of the audience it serves; ``common`` holds what they
share."""
