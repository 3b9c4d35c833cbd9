// test kit
