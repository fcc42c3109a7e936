from . import cryptopay
